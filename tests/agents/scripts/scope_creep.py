"""Does what it was told, then 'tidies up' a file it does not own."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _prompt import directives, read_prompt

for path, text in directives(read_prompt(), "write"):
    Path(path).write_text(text + "\n")
Path("lib/b.py").write_text("# reformatted while I was here\n")
print("Done, and I also cleaned up lib/b.py.")
