"""`python -m desk`: imports (the platforms' lead exports, the dealer's owners) and the
lead export, over the same database and settings the bot uses, without NoneBot.

Settings are read as the bot reads them (desk.settings.read_env: `.env`,
`.env.{ENVIRONMENT}`, the environment winning), the desk opens as the bot opens it
(migrations, the roster seeded from roster.toml). Exit codes: 0 done, 1 a refused
file or argument (a Chinese message, never a traceback), 2 a usage error."""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from collections.abc import Mapping, Sequence
from contextlib import AbstractContextManager
from datetime import date
from pathlib import Path
from typing import IO, Any, NoReturn, get_args

from sqlalchemy.exc import DBAPIError
from tqdm import tqdm

from desk import cli_texts as t
from desk.clock import ShiftedClock
from desk.config_file import use_config_dir
from desk.errors import ConfigError, DeskError, InvalidInput
from desk.imports.errors import errors_path_for, write_errors
from desk.imports.read import open_lead_file, open_owner_file
from desk.imports.rows import SOURCES, HeaderReport, ImportReport, RejectedRow
from desk.leadlist import LeadFilter
from desk.reports import PERIOD_NAMES
from desk.service import Desk
from desk.settings import DEFAULT_CONFIG_DIR, LevelCode, load_settings, read_env, superusers_of
from desk.views import CHANNEL_NAMES, STAGE_NAMES, SYSTEM

PREVIEW_ROWS = 20  # a dry run's first rows shown
REJECTED_SHOWN = 10  # the summary's first rejected rows


class Refused(Exception):
    """A file or an argument the command refuses: exit 1 with this message."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        self.print_usage(sys.stderr)
        self.exit(2, t.USAGE_ERROR.format(message=message) + "\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog=t.PROG, description=t.DESCRIPTION)
    commands = parser.add_subparsers(dest="command", required=True, title=t.COMMANDS)

    imports = commands.add_parser("import", help=t.IMPORT_HELP, description=t.IMPORT_HELP)
    what = imports.add_subparsers(dest="what", required=True, title=t.IMPORT_WHAT)
    leads = what.add_parser("leads", help=t.IMPORT_LEADS_HELP, description=t.IMPORT_LEADS_HELP)
    leads.add_argument("file", type=Path, help=t.FILE_HELP)
    leads.add_argument("--source", choices=SOURCES, default="other", help=t.SOURCE_HELP)
    leads.add_argument("--dry-run", action="store_true", help=t.DRY_RUN_HELP)
    owners = what.add_parser("owners", help=t.IMPORT_OWNERS_HELP, description=t.IMPORT_OWNERS_HELP)
    owners.add_argument("file", type=Path, help=t.FILE_HELP)
    owners.add_argument("--dry-run", action="store_true", help=t.DRY_RUN_HELP)

    export = commands.add_parser("export", help=t.EXPORT_HELP, description=t.EXPORT_HELP)
    what = export.add_subparsers(dest="what", required=True, title=t.EXPORT_WHAT)
    out = what.add_parser("leads", help=t.EXPORT_LEADS_HELP, description=t.EXPORT_LEADS_HELP)
    out.add_argument("out", type=Path, help=t.OUT_HELP)
    out.add_argument("--period", choices=tuple(PERIOD_NAMES), help=t.PERIOD_HELP)
    out.add_argument("--from", dest="first", metavar="YYYY-MM-DD", help=t.FROM_HELP)
    out.add_argument("--to", dest="last", metavar="YYYY-MM-DD", help=t.TO_HELP)
    out.add_argument("--channel", help=t.CHANNEL_HELP)
    out.add_argument("--consultant", metavar="NAME", help=t.CONSULTANT_HELP)
    out.add_argument("--stage", help=t.STAGE_HELP)
    out.add_argument("--level", choices=get_args(LevelCode), help=t.LEVEL_HELP)
    out.add_argument("--no-phones", action="store_true", help=t.NO_PHONES_HELP)
    return parser


# -- opening the desk as the bot does ------------------------------------------------


async def open_desk(environ: Mapping[str, str], cwd: Path | None = None) -> Desk:
    """The bot's desk: its settings (desk.settings.read_env), its config dir for the
    features' files (config/imports.toml), migrations, the roster seed."""
    values = read_env(environ, cwd)
    config_dir = Path(values.get("DESK_CONFIG_DIR") or DEFAULT_CONFIG_DIR)
    settings = load_settings(config_dir, values)
    use_config_dir(config_dir)
    shift = values.get("DESK_CLOCK_SHIFT_FILE")
    return await Desk.open(
        settings, clock=ShiftedClock(Path(shift)) if shift else None,
        roster_file=config_dir / "roster.toml", superusers=superusers_of(values),
    )  # fmt: skip


# -- the import's report ---------------------------------------------------------------


def _say(out: IO[str], text: str = "") -> None:
    print(text, file=out, flush=True)


def print_headers(out: IO[str], path: Path, headers: HeaderReport) -> None:
    _say(out, t.HEADER_TITLE.format(path=path))
    for header, name in headers.mapped.items():
        _say(out, t.HEADER_MAPPED.format(header=header, field=t.FIELD_NAMES.get(name, name)))
    if headers.unknown:
        _say(out, t.HEADER_UNKNOWN.format(headers="、".join(headers.unknown)))
    if headers.missing:  # e.g. no platform lead id: the phone alone identifies a row
        fields = "、".join(t.FIELD_NAMES.get(f, f) for f in headers.missing)
        _say(out, t.HEADER_MISSING.format(fields=fields))
    _say(out)


class _Bar(AbstractContextManager["_Bar"]):
    """A tqdm bar on the terminal (none when stderr is not one: a log, a pipe)."""

    def __init__(self, total: int | None, err: IO[str]) -> None:
        self.bar = tqdm(total=total, file=err, disable=not err.isatty(), unit="行")

    def __call__(self, done: int, expected: int | None) -> None:
        if expected is not None and self.bar.total != expected:
            self.bar.total = expected
        self.bar.update(done - self.bar.n)

    def __exit__(self, *exc: object) -> None:
        if exc[0] is None:
            self.bar.total = self.bar.n  # a CSV's row count was estimated from its size
            self.bar.refresh()
        self.bar.close()


def _who(name: str | None, masked: str | None) -> str:
    return " ".join(x for x in (name, masked) if x) or "—"


async def print_report(
    out: IO[str], desk: Desk, report: ImportReport, rejected: Sequence[RejectedRow]
) -> None:
    if report.dry_run:
        _say(out, t.DRY_RUN_TITLE.format(n=min(len(report.preview), PREVIEW_ROWS)))
        for row in sorted(report.preview, key=lambda r: r.line)[:PREVIEW_ROWS]:
            reason = f"（{row.reason}）" if row.reason else ""
            _say(out, t.PREVIEW_ROW.format(
                line=row.line, outcome=t.OUTCOMES.get(row.outcome, row.outcome),
                who=_who(row.name, row.masked_phone), reason=reason,
            ))  # fmt: skip
        _say(out)
    title = t.SUMMARY_TITLE if report.dry_run else t.SUMMARY_DONE_TITLE
    _say(out, title.format(rows=report.rows))
    for outcome, n in report.counts.items():
        _say(out, t.COUNT.format(outcome=t.OUTCOMES.get(outcome, outcome), n=n))
    reasons = [(r.line, r.reason) for r in rejected]
    seen = {line for line, _ in reasons}
    reasons += [
        (r.line, r.reason or "")
        for r in report.preview
        if r.outcome == "rejected" and r.line not in seen
    ]
    if reasons:
        shown = sorted(reasons)[:REJECTED_SHOWN]
        _say(out, t.REJECTED_TITLE.format(n=len(shown)))
        for line, reason in shown:
            _say(out, t.REJECTED_ROW.format(line=line, reason=reason))
    if report.errors_file:
        _say(out, t.ERRORS_FILE.format(path=report.errors_file))
    merged = report.merged_per_consultant
    if report.per_consultant or merged or report.unassigned:
        names = {m.id: m.name for m in await desk.members()}
        _say(out, t.PER_CONSULTANT_DRY if report.dry_run else t.PER_CONSULTANT_TITLE)
        for member_id in sorted(set(report.per_consultant) | set(merged)):
            _say(out, t.PER_CONSULTANT.format(
                name=names.get(member_id, f"#{member_id}"),
                new=report.per_consultant.get(member_id, 0), merged=merged.get(member_id, 0),
            ))  # fmt: skip
        if report.unassigned:
            _say(out, t.UNASSIGNED.format(n=report.unassigned))
    if not report.dry_run and report.counts.get("created", 0) + report.counts.get("merged", 0) == 0:
        _say(out, t.NOTHING_CHANGED)


def _errors_file(path: Path, report: ImportReport, header: Sequence[str],
                 rejected: list[RejectedRow]) -> None:  # fmt: skip
    """The rejected rows beside the input, with their reasons, ready to fix and
    import again (desk.imports.errors); a dry run writes it too (the database is
    what a dry run leaves alone)."""
    if rejected and not report.errors_file:
        target = errors_path_for(path)
        write_errors(target, header, rejected)
        report.errors_file = str(target)


async def import_leads(args: argparse.Namespace, desk: Desk, out: IO[str], err: IO[str]) -> None:
    path: Path = args.file
    rejected: list[RejectedRow] = []  # a few per cent of a file; valid rows are not kept
    with open_lead_file(path, source=args.source, tz=desk.settings.tz) as lead_file:
        print_headers(out, path, lead_file.headers)
        with _Bar(lead_file.expected_rows, err) as bar:
            report = await desk.import_leads(
                lead_file.rows(), source=args.source, actor=SYSTEM, dry_run=args.dry_run,
                progress=bar, rejects=rejected.append, total=lead_file.expected_rows,
            )  # fmt: skip
        _errors_file(path, report, lead_file.header_cells, rejected)
    await print_report(out, desk, report, rejected)


async def import_owners(args: argparse.Namespace, desk: Desk, out: IO[str], err: IO[str]) -> None:
    path: Path = args.file
    rejected: list[RejectedRow] = []
    with open_owner_file(path, tz=desk.settings.tz) as owner_file:
        print_headers(out, path, owner_file.headers)
        with _Bar(owner_file.expected_rows, err) as bar:
            report = await desk.import_owners(
                owner_file.rows(), actor=SYSTEM, dry_run=args.dry_run, progress=bar,
                rejects=rejected.append, total=owner_file.expected_rows,
            )  # fmt: skip
        _errors_file(path, report, owner_file.header_cells, rejected)
    await print_report(out, desk, report, rejected)


# -- the export ---------------------------------------------------------------------------


def _day(raw: str) -> date:
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise Refused(t.BAD_DATE.format(value=raw)) from None


def _code(raw: str, names: Mapping[str, str]) -> str | None:
    """A code given as itself or as its Chinese name."""
    if raw in names:
        return raw
    return next((code for code, name in names.items() if name == raw), None)


async def lead_filter(args: argparse.Namespace, desk: Desk) -> LeadFilter:
    """The export's LeadFilter from the options (the 线索 page's filters, by name)."""
    f: dict[str, Any] = {}
    if args.period and (args.first or args.last):
        raise Refused(t.PERIOD_AND_DATES)
    if args.period:
        p = desk.period(args.period)
        f.update(created_from=p.start, created_to=p.end)
    first = _day(args.first) if args.first else None
    last = _day(args.last) if args.last else None
    if first and last and first > last:
        raise Refused(t.FROM_AFTER_TO)
    if first:
        f["created_from"] = desk.calendar.day_bounds(first)[0]
    if last:
        f["created_to"] = desk.calendar.day_bounds(last)[1]
    if args.channel:
        f["channel"] = _code(args.channel, CHANNEL_NAMES) or args.channel
    if args.stage:
        stage = _code(args.stage, STAGE_NAMES)
        if stage is None:
            choices = "、".join(f"{c} {n}" for c, n in STAGE_NAMES.items())
            raise Refused(t.UNKNOWN_STAGE.format(value=args.stage, choices=choices))
        f["stage"] = stage
    if args.level:
        f["level"] = args.level
    if args.consultant:
        found = [m for m in await desk.members() if m.name == args.consultant.strip()]
        if not found:
            raise Refused(t.UNKNOWN_CONSULTANT.format(name=args.consultant))
        if len(found) > 1:
            raise Refused(t.AMBIGUOUS_CONSULTANT.format(name=args.consultant))
        f["consultant_id"] = found[0].id
    return LeadFilter(**f)


async def export_leads(args: argparse.Namespace, desk: Desk, out: IO[str]) -> None:
    path: Path = args.out
    if path.suffix.lower() != ".xlsx":
        raise Refused(t.NOT_XLSX.format(path=path))
    if not path.parent.resolve().is_dir():
        raise Refused(t.NO_FOLDER.format(path=path.parent))
    f = await lead_filter(args, desk)
    phones = not args.no_phones  # the operator is the dealer's admin
    partial = path.with_name(path.name + ".part")
    try:
        n = await desk.export_leads(SYSTEM, f, partial, phones=phones)
        partial.replace(path)  # a reader never sees half a file
    finally:
        partial.unlink(missing_ok=True)
    _say(
        out, t.EXPORTED.format(n=n, path=path, phones=t.WITH_PHONES if phones else t.WITHOUT_PHONES)
    )


# -- main ------------------------------------------------------------------------------


async def run(args: argparse.Namespace, environ: Mapping[str, str], cwd: Path | None,
              out: IO[str], err: IO[str]) -> None:  # fmt: skip
    if args.command == "import" and not args.file.is_file():
        raise Refused(t.NO_FILE.format(path=args.file))
    desk = await open_desk(environ, cwd)
    try:
        if args.command == "import" and args.what == "leads":
            await import_leads(args, desk, out, err)
        elif args.command == "import":
            await import_owners(args, desk, out, err)
        else:
            await export_leads(args, desk, out)
    finally:
        await desk.close()
        use_config_dir(None)  # this process's config dir was the command's alone


def main(
    argv: Sequence[str] | None = None, *, environ: Mapping[str, str] | None = None,
    cwd: Path | None = None, out: IO[str] | None = None, err: IO[str] | None = None,
) -> int:  # fmt: skip
    stdout: IO[str] = out or sys.stdout
    stderr: IO[str] = err or sys.stderr
    try:
        args = build_parser().parse_args(argv)
    except SystemExit as exc:  # argparse: --help (0) or a usage error (2)
        return exc.code if isinstance(exc.code, int) else 2
    try:
        asyncio.run(run(args, os.environ if environ is None else environ, cwd, stdout, stderr))
    except Refused as exc:
        _say(stderr, t.ERROR.format(message=exc))
        return 1
    except InvalidInput as exc:
        _say(stderr, t.ERROR.format(message=exc.message))
        return 1
    except ConfigError as exc:
        _say(stderr, t.CONFIG_ERROR.format(message=exc))
        return 1
    except DeskError as exc:  # the import's refusals of a file
        _say(stderr, t.ERROR.format(message=exc))
        return 1
    except BrokenPipeError:  # the output was piped into `head`: nothing left to say
        return 1
    except OSError as exc:
        path = getattr(exc, "filename", None) or ""
        _say(stderr, t.CANNOT_READ.format(path=path, reason=exc.strerror or exc))
        return 1
    except DBAPIError as exc:  # the database cannot be reached or refuses (not a bug of ours)
        _say(stderr, t.DATABASE_ERROR.format(reason=exc.orig))
        return 1
    except KeyboardInterrupt:
        _say(stderr, t.INTERRUPTED)
        return 130
    return 0
