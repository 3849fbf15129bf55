"""A well-behaved agent: performs the '@write <path> <text>' lines of its prompt, nothing else."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _prompt import directives, read_prompt

written = []
for path, text in directives(read_prompt(), "write"):
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    Path(path).write_text(text + "\n")
    written.append(path)
print("working...")
print()
print(f"Wrote {', '.join(written)} as asked.\nASSUMPTION: the file is UTF-8 text")
