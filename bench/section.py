"""Writes one benchmark script's summary into bench/RESULTS.md.

    python3 bench/section.py NAME < summary.md

The text goes between `<!-- NAME: begin -->` and `<!-- NAME: end -->`,
replacing what a previous run of the same script left there (or at the
end of the file, the first time), so each script refreshes its own figures
and bench/report.py keeps them when it writes the rest of the file anew.
"""
import pathlib
import re
import sys

RESULTS = pathlib.Path(__file__).resolve().parent / "RESULTS.md"


def marked(name: str, body: str) -> str:
    return f"<!-- {name}: begin -->\n{body.rstrip()}\n<!-- {name}: end -->\n"


def sections(text: str) -> list[str]:
    """Every marked section in `text`, markers included."""
    return re.findall(r"<!-- (\S+): begin -->.*?<!-- \1: end -->\n", text, re.S)


def main() -> None:
    name = sys.argv[1]
    body = sys.stdin.read()
    text = RESULTS.read_text() if RESULTS.exists() else ""
    pattern = re.compile(rf"<!-- {re.escape(name)}: begin -->.*?<!-- {re.escape(name)}: end -->\n", re.S)
    new = marked(name, body)
    text = pattern.sub(lambda _: new, text) if pattern.search(text) else text.rstrip() + "\n\n" + new
    RESULTS.write_text(text)
    print(f"== written the {name} section of {RESULTS.relative_to(RESULTS.parent.parent)}")


if __name__ == "__main__":
    main()
