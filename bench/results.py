"""bench/RESULTS.md: one section per benchmark, holding its last run."""

from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "RESULTS.md"


def record(name: str, lines: list[str] | str) -> None:
    """Replace the `## name` section of RESULTS.md with `lines` (appended when there is none yet)."""
    body = lines if isinstance(lines, str) else "\n".join(lines)
    section = f"## {name}\n\n{body.strip(chr(10))}\n"
    text = RESULTS.read_text(encoding="utf-8") if RESULTS.exists() else "# Benchmark results\n"
    start = text.find(f"\n## {name}\n")
    if start == -1:
        text = text.rstrip("\n") + "\n\n" + section
    else:
        end = text.find("\n## ", start + 1)
        text = text[:start].rstrip("\n") + "\n\n" + section + ("\n" + text[end + 1 :] if end != -1 else "")
    RESULTS.write_text(text, encoding="utf-8")
