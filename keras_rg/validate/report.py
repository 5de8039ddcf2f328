"""Writes the validation report: Markdown, a self-contained HTML page, JSON, and a text table."""

import base64
import html
import json
import os

__all__ = ["REPORT_FILES", "check_output_dir", "format_verdict_table", "write_report"]

REPORT_FILES = ("report.json", "report.md", "report.html")


def check_output_dir(output_dir, overwrite=False):
    """Refuses a path that is a file, and an earlier report unless ``overwrite``.

    Raises:
        ValueError: ``output_dir`` is a file, or holds a report and ``overwrite`` is False.
    """
    if os.path.exists(output_dir) and not os.path.isdir(output_dir):
        raise ValueError(
            f"Received an invalid value for `output_dir`: {output_dir!r} exists and is not a "
            "folder. Pass a folder path (it is created if missing)."
        )
    existing = [f for f in REPORT_FILES if os.path.exists(os.path.join(output_dir, f))]
    if existing and not overwrite:
        raise ValueError(
            f"The folder {output_dir!r} already holds a report ({', '.join(existing)}); nothing "
            "was written. Pass overwrite=True (--overwrite) to replace it, or another folder."
        )


_NOT_STATED = "not stated"


def _effect(r):
    return r.effect if r.effect else _NOT_STATED


def _falsify(r):
    return r.falsified_if if r.falsified_if else _NOT_STATED


def format_verdict_table(results):
    """The verdict table as aligned text: check, source, verdict, seconds, effect (+/- s.e.)."""
    w_name = max([5] + [len(r.name) for r in results]) + 2
    w_source = max([6] + [len(r.source) for r in results]) + 2
    head = f"{'check':<{w_name}}{'source':<{w_source}}{'verdict':<20}{'seconds':>8}  effect"
    lines = [head, "-" * len(head)]
    for r in results:
        lines.append(
            f"{r.name:<{w_name}}{r.source:<{w_source}}{r.verdict:<20}{r.seconds:>8.1f}  "
            f"{_effect(r)}"
        )
    return "\n".join(lines)


def _markdown(results, meta):
    lines = [
        "# keras_rg validation report",
        "",
        f"Mode `{meta['mode']}`, seed {meta['seed']}, keras_rg {meta['version']}. Each row: what "
        "the seed states, what was measured (with error bars), the verdict by the stated rule.",
        "",
        "| check | source | verdict | effect (+/- s.e., seeds) | measured |",
        "|---|---|---|---|---|",
    ]
    for r in results:
        measured = r.measured.replace("|", "\\|")
        effect = _effect(r).replace("|", "\\|")
        lines.append(f"| {r.name} | {r.source} | **{r.verdict}** | {effect} | {measured} |")
    for r in results:
        lines += ["", f"## {r.name}: {r.verdict}", "", f"*{r.source}.* Claim: {r.claim}", "",
                  f"Measured: {r.measured}", "", f"Effect: {_effect(r)}.", "",
                  f"What would falsify it: {_falsify(r)}", "", f"Rule: {r.rule}."]  # fmt: skip
        if r.figure:
            lines += ["", f"![{r.name}]({r.figure})"]
    return "\n".join(lines) + "\n"


def _html(results, meta, output_dir):
    esc = html.escape
    rows = "".join(
        f"<tr><td>{esc(r.name)}</td><td>{esc(r.source)}</td>"
        f"<td class='v{r.verdict.replace(' ', '_')}'>{esc(r.verdict)}</td>"
        f"<td>{esc(_effect(r))}</td><td>{esc(r.measured)}</td></tr>"
        for r in results
    )
    sections = []
    for r in results:
        img = ""
        if r.figure:
            with open(os.path.join(output_dir, r.figure), "rb") as f:
                data = base64.b64encode(f.read()).decode("ascii")
            img = f"<img alt='{esc(r.name)}' src='data:image/png;base64,{data}'>"
        sections.append(
            f"<h2>{esc(r.name)}: {esc(r.verdict)}</h2><p><em>{esc(r.source)}.</em> Claim: "
            f"{esc(r.claim)}</p><p>Measured: {esc(r.measured)}</p><p>Effect: {esc(_effect(r))}.</p>"
            f"<p>What would falsify it: {esc(_falsify(r))}</p><p>Rule: {esc(r.rule)}.</p>{img}"
        )
    style = (
        "body{font-family:sans-serif;max-width:960px;margin:2em auto;line-height:1.4}"
        "table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:4px 8px;"
        "vertical-align:top}.vholds{background:#d8f5d8}.vholds_with_caveat{background:#fff3c4}"
        ".vdoes_not_hold{background:#f8d0d0}img{max-width:100%}"
    )
    return (
        "<!DOCTYPE html><html><head><meta charset='utf-8'><title>keras_rg validation report"
        f"</title><style>{style}</style></head><body><h1>keras_rg validation report</h1>"
        f"<p>Mode {esc(meta['mode'])}, seed {meta['seed']}, keras_rg {esc(meta['version'])}.</p>"
        "<table><tr><th>check</th><th>source</th><th>verdict</th><th>effect (+/- s.e., seeds)</th>"
        "<th>measured</th></tr>"
        f"{rows}</table>{''.join(sections)}</body></html>"
    )


def write_report(results, output_dir, meta):
    """Writes report.json, report.md and report.html (figures embedded) into ``output_dir``."""
    os.makedirs(output_dir, exist_ok=True)
    payload = {**meta, "checks": [r.to_dict() for r in results]}
    with open(os.path.join(output_dir, "report.json"), "w") as f:
        json.dump(payload, f, indent=2, default=float)
    with open(os.path.join(output_dir, "report.md"), "w") as f:
        f.write(_markdown(results, meta))
    with open(os.path.join(output_dir, "report.html"), "w") as f:
        f.write(_html(results, meta, output_dir))
    return {name: os.path.join(output_dir, name) for name in REPORT_FILES}
