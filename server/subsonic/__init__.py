"""The OpenSubsonic API at /rest/*.view, over the same graph and permissions."""
