"""The music domain: keys and their notations, the audio-feature table, the embedding
layout, the stored forms of models, and the domain errors. Imports nothing of ours."""
