"""Walking a music folder: only inside the allowed roots, never out through a symlink, and
a plan that re-reads only what changed on disk."""

import os
from pathlib import Path

import pytest

from music.errors import DomainError
from workers.library_scan import FoundFile, Known, ScanPlan, plan, resolve_root, walk


@pytest.fixture
def library(tmp_path: Path) -> Path:
    """tmp/music (the allowed root) with audio, non-audio and hidden files, and
    tmp/outside with audio that no scan may reach."""
    music = tmp_path / "music"
    for name in ("a.mp3", "Album/01.FLAC", "Album/02.ogg", "Album/cover.jpg", "notes.txt"):
        (music / name).parent.mkdir(parents=True, exist_ok=True)
        (music / name).write_bytes(name.encode())
    (music / ".cache").mkdir()
    (music / ".cache" / "hidden.mp3").write_bytes(b"x")
    (music / "._a.mp3").write_bytes(b"x")  # a macOS resource fork
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.mp3").write_bytes(b"secret")
    return music


def _code(path: str, roots: list[Path]) -> str:
    with pytest.raises(DomainError) as caught:
        resolve_root(path, roots)
    assert not path or path not in caught.value.message  # the path goes in details only
    return caught.value.code


def _names(root: Path, found: list[FoundFile]) -> list[str]:
    return [os.path.relpath(f.path, root) for f in found]


# --- resolve_root --------------------------------------------------------------------------


def test_a_folder_inside_a_root_resolves(library: Path) -> None:
    assert resolve_root(str(library / "Album"), [library]) == (library / "Album").resolve()
    assert resolve_root(str(library), [library.parent / "other", library]) == library.resolve()


def test_dot_dot_is_refused_even_when_it_stays_inside(library: Path) -> None:
    assert _code(f"{library}/Album/../Album", [library]) == "PATH_NOT_ALLOWED"
    assert _code(f"{library}/../outside", [library]) == "PATH_NOT_ALLOWED"


def test_paths_outside_the_roots_are_refused(library: Path) -> None:
    outside = library.parent / "outside"
    assert _code(str(outside), [library]) == "PATH_NOT_ALLOWED"
    assert _code("/", [library]) == "PATH_NOT_ALLOWED"
    assert _code(str(library), []) == "PATH_NOT_ALLOWED"
    sibling = library.parent / "music2"  # shares a prefix with the root, not a parent
    sibling.mkdir()
    assert _code(str(sibling), [library]) == "PATH_NOT_ALLOWED"


def test_relative_paths_are_refused(library: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(library)
    assert _code("Album", [library]) == "PATH_NOT_ALLOWED"
    assert _code("", [library]) == "PATH_NOT_ALLOWED"


def test_a_symlink_out_of_the_root_is_refused(library: Path) -> None:
    (library / "escape").symlink_to(library.parent / "outside")
    assert _code(str(library / "escape"), [library]) == "PATH_NOT_ALLOWED"


def test_a_missing_path_is_not_found_only_inside_a_root(library: Path) -> None:
    assert _code(str(library / "nowhere"), [library]) == "PATH_NOT_FOUND"
    # Outside the roots, existence is never revealed.
    assert _code(str(library.parent / "nowhere"), [library]) == "PATH_NOT_ALLOWED"


def test_a_file_or_nul_byte_is_a_validation_error(library: Path) -> None:
    assert _code(str(library / "a.mp3"), [library]) == "VALIDATION_ERROR"
    assert _code(f"{library}/\x00", [library]) == "VALIDATION_ERROR"


def test_roots_given_through_symlinks_are_resolved(library: Path) -> None:
    alias = library.parent / "alias"
    alias.symlink_to(library)
    assert resolve_root(str(alias / "Album"), [alias]) == (library / "Album").resolve()
    assert resolve_root(str(library / "Album"), [alias]) == (library / "Album").resolve()


# --- walk ----------------------------------------------------------------------------------


def test_walk_finds_audio_by_extension_and_skips_hidden(library: Path) -> None:
    found = list(walk(library, [library]))
    assert _names(library, found) == ["a.mp3", "Album/01.FLAC", "Album/02.ogg"]
    first = found[0]
    info = (library / "a.mp3").stat()
    assert (first.path, first.size, first.mtime_ns) == (
        os.path.realpath(library / "a.mp3"),
        info.st_size,
        info.st_mtime_ns,
    )


def test_walk_never_follows_a_symlink_out_of_the_roots(library: Path) -> None:
    outside = library.parent / "outside"
    (library / "linked-dir").symlink_to(outside)
    (library / "linked.mp3").symlink_to(outside / "secret.mp3")
    found = list(walk(library, [library]))
    assert all("secret" not in f.path for f in found)
    assert _names(library, found) == ["a.mp3", "Album/01.FLAC", "Album/02.ogg"]
    # Allowed as a root of its own, the same target may be followed.
    assert "secret.mp3" in {Path(f.path).name for f in walk(library, [library, outside])}


def test_walk_survives_symlink_cycles_and_reports_each_file_once(library: Path) -> None:
    (library / "Album" / "loop").symlink_to(library)
    (library / "Album" / "self").symlink_to(library / "Album")
    (library / "again.mp3").symlink_to(library / "a.mp3")
    (library / "dangling.mp3").symlink_to(library / "nothing.mp3")
    found = list(walk(library, [library]))
    assert sorted(_names(library, found)) == ["Album/01.FLAC", "Album/02.ogg", "a.mp3"]


def test_walk_refuses_a_root_outside_the_allowed_ones(library: Path) -> None:
    with pytest.raises(DomainError) as caught:
        list(walk(library.parent / "outside", [library]))
    assert caught.value.code == "PATH_NOT_ALLOWED"


# --- plan ----------------------------------------------------------------------------------


def _catalogue(found: list[FoundFile]) -> dict[str, Known]:
    return {f.path: Known(f.size, f.mtime_ns) for f in found}


def test_a_first_scan_is_all_new(library: Path) -> None:
    found = list(walk(library, [library]))
    assert plan(found, {}) == ScanPlan(new=found)


def test_plan_after_touching_modifying_and_deleting(library: Path) -> None:
    known = _catalogue(list(walk(library, [library])))
    assert plan(walk(library, [library]), known) == ScanPlan(unchanged=list(known))

    touched, modified, deleted = (
        library / "a.mp3",
        library / "Album/01.FLAC",
        library / "Album/02.ogg",
    )
    stat = touched.stat()
    os.utime(touched, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))
    mtime = modified.stat().st_mtime_ns
    modified.write_bytes(b"a longer body than before")
    os.utime(modified, ns=(mtime, mtime))  # same mtime, new size: still changed
    deleted.unlink()
    (library / "Album" / "03.opus").write_bytes(b"new")
    real = {p: os.path.realpath(p) for p in (touched, modified, deleted)}

    result = plan(walk(library, [library]), known)
    assert _names(library, result.new) == ["Album/03.opus"]
    assert sorted(f.path for f in result.changed) == sorted([real[touched], real[modified]])
    assert result.unchanged == []
    assert result.vanished == [real[deleted]]
    assert result.returned == []


def test_a_returned_file_is_changed_and_a_gone_one_is_not_vanished_twice(
    library: Path,
) -> None:
    found = list(walk(library, [library]))
    known = _catalogue(found)
    back = found[0]
    known[back.path] = Known(back.size, back.mtime_ns, missing=True)
    still_gone = str(library / "Album" / "lost.mp3")
    known[still_gone] = Known(10, 10, missing=True)

    result = plan(found, known)
    assert result.returned == [back.path]
    assert result.changed == [back]  # re-read: it may not be the file that left
    assert result.vanished == []
    assert result.new == []
    assert result.unchanged == [f.path for f in found[1:]]


def test_duplicate_found_entries_count_once(library: Path) -> None:
    found = list(walk(library, [library]))
    assert plan(found + found, {}).new == found
