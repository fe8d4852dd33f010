#!/usr/bin/env python3
"""Writes Sources/OpvangSync/Mapping/BuiltInMapping.swift from mappings/*.json (run after editing a mapping)."""
import pathlib

root = pathlib.Path(__file__).resolve().parent.parent
target = root / "Sources/OpvangSync/Mapping/BuiltInMapping.swift"
text = target.read_text()
for name, var in [("flexkids-csv", "flexkidsCSV"), ("flexkids-json", "flexkidsJSON")]:
    body = (root / "mappings" / f"{name}.json").read_text()
    start = text.index(f"public static let {var} = BuiltInMapping(")
    end = text.index('"""#)', start) + len('"""#)')
    # A multi-line literal drops the line break before its closing delimiter: end with an empty line.
    literal = f'public static let {var} = BuiltInMapping(path: "mappings/{name}.json", text: #"""\n{body}\n"""#)'
    text = text[:start] + literal + text[end:]
target.write_text(text)
