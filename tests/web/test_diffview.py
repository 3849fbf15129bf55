"""The diff as the page shows it: files, numbered hunks, line numbers, highlighting, verdicts."""

from __future__ import annotations

from crewchief.records import HunkVerdict
from crewchief.web.diffview import diff_view, highlight_css

PATCH = b"""diff --git a/app/m.py b/app/m.py
index 1111111..2222222 100644
--- a/app/m.py
+++ b/app/m.py
@@ -1,3 +1,3 @@
 DOC = \"\"\"first
-second <old>
+second <new>
 \"\"\"
@@ -10,2 +10,3 @@ def f():
     return 1
+    # added
 x = 2
diff --git a/notes.txt b/notes.txt
new file mode 100644
index 0000000..3333333
--- /dev/null
+++ b/notes.txt
@@ -0,0 +1 @@
+hello
\\ No newline at end of file
"""


def test_files_and_hunks_are_numbered_as_the_reviewer_numbers_them() -> None:
    view = diff_view(PATCH)
    assert [f.path for f in view.files] == ["app/m.py", "notes.txt"]
    assert [h.number for h in view.files[0].hunks] == [1, 2]
    assert view.files[1].kind == "add"
    assert (view.added, view.removed) == (3, 1)


def test_lines_carry_old_and_new_numbers() -> None:
    first, second = diff_view(PATCH).files[0].hunks
    assert [(ln.kind, ln.old, ln.new) for ln in first.lines] == [
        ("ctx", 1, 1),
        ("del", 2, None),
        ("add", None, 2),
        ("ctx", 3, 3),
    ]
    assert [(ln.kind, ln.old, ln.new) for ln in second.lines] == [
        ("ctx", 10, 10),
        ("add", None, 11),
        ("ctx", 11, 12),
    ]


def test_a_string_spanning_lines_stays_highlighted_as_a_string() -> None:
    first = diff_view(PATCH).files[0].hunks[0]
    added = next(ln for ln in first.lines if ln.kind == "add")
    assert 'class="pg-s' in added.html  # inside the triple-quoted string
    assert "&lt;new&gt;" in added.html and "<new>" not in added.html


def test_no_newline_marker_is_a_note_line() -> None:
    lines = diff_view(PATCH).files[1].hunks[0].lines
    assert [ln.kind for ln in lines] == ["add", "note"]


def test_hunk_verdicts_sit_beside_their_hunk_or_file_and_strays_are_kept() -> None:
    verdicts = [
        HunkVerdict(path="app/m.py", hunk=2, ok=False, note="why a comment?"),
        HunkVerdict(path="notes.txt", hunk=0, ok=True, note="fine file"),
        HunkVerdict(path="gone.py", hunk=1, ok=True),
    ]
    view = diff_view(PATCH, verdicts)
    m, notes = view.files
    assert [v.note for v in m.hunks[1].verdicts] == ["why a comment?"]
    assert m.hunks[0].verdicts == ()
    assert [v.note for v in notes.verdicts] == ["fine file"]
    assert [v.path for v in view.unmatched] == ["gone.py"]


def test_a_patch_the_parser_refuses_is_shown_as_text_with_the_reason() -> None:
    view = diff_view(b"not a patch <at all>\n")
    assert view.files == ()
    assert view.error and "diff --git" in view.error
    assert view.raw == "not a patch <at all>\n"


def test_undecodable_bytes_are_shown_not_fatal() -> None:
    patch = PATCH.replace(b"second <new>", b"second \xff\xfe")
    added = next(ln for ln in diff_view(patch).files[0].hunks[0].lines if ln.kind == "add")
    assert "\ufffd" in added.html


def test_highlight_css_is_scoped_to_diffs() -> None:
    rules = highlight_css().splitlines()
    assert rules and all(r.startswith(".diff .code .") for r in rules)
