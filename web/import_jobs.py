"""导入 jobs of the web desk: the uploaded file in a private folder, its dry run
(the preview) and its real import, each a background task in the bot process.

Jobs live in memory (a restart forgets them; their files are swept when older
than KEEP). A job belongs to the manager who uploaded it: anyone else is told it
does not exist. One job reads at a time per desk (a preview or an import): an
import is the heaviest thing the bot does, and two would race for the same phones.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import os
import secrets
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

from sqlalchemy.engine import make_url

from desk import Actor, Desk
from desk.errors import DeskError
from desk.imports.errors import errors_path_for, write_errors
from desk.imports.read import ImportFile, open_lead_file, open_owner_file
from desk.imports.rows import HeaderReport, ImportReport, RejectedRow
from desk.phone import mask_phones_in_text
from desk.settings import REPO_ROOT
from web import texts

log = logging.getLogger(__name__)

Kind = Literal["leads", "owners"]
State = Literal["previewing", "previewed", "running", "done", "failed"]
SUFFIXES = (".xlsx", ".csv")
XLSX_MAGIC = b"PK\x03\x04"  # an .xlsx is a zip
KEEP = 3 * 3600.0  # seconds a finished job (its report, its errors file) is kept
CHUNK = 256 * 1024
READ_CHUNK = 500  # rows parsed per trip to the worker thread


class UploadRefused(Exception):
    """An upload the page refuses with a Chinese line (and an HTTP status); nothing
    was kept."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


@dataclass
class ImportJob:
    """One upload: its preview, then (confirmed) its import."""

    id: str
    owner_id: int
    actor: Actor
    kind: Kind
    source: str
    path: Path  # the upload, under a random name; deleted when the job ends
    file_name: str  # as the manager's computer named it: shown, never used on disk
    now: datetime  # the upload's moment (rows dated after it are refused)
    created: float = field(default_factory=time.monotonic)
    state: State = "previewing"
    done: int = 0
    expected: int | None = None
    headers: HeaderReport | None = None
    preview: ImportReport | None = None
    report: ImportReport | None = None
    error: str = ""
    task: asyncio.Task[None] | None = None

    @property
    def busy(self) -> bool:
        return self.state in ("previewing", "running")

    @property
    def errors_file(self) -> Path | None:
        """The rejected rows' .xlsx of the import (or, before it, of the preview)."""
        report = self.report or self.preview
        if report is None or not report.errors_file:
            return None
        path = Path(report.errors_file)
        return path if path.is_file() else None


class ImportJobs:
    """The desk's import jobs, by random id."""

    def __init__(self, max_bytes: int = 20 * 1024 * 1024, folder: str = "") -> None:
        self.max_bytes = max_bytes
        self.folder = folder
        self.jobs: dict[str, ImportJob] = {}
        self.keep = KEEP

    # -- where uploads go -------------------------------------------------------

    def directory(self, desk: Desk) -> Path:
        """WEB_IMPORT_DIR, else imports/ beside the SQLite database, else data/imports;
        created private (0700) on first use."""
        if self.folder:
            path = Path(self.folder)
        else:
            url = make_url(desk.settings.database_url)
            db = url.database or ""
            sqlite_file = url.get_backend_name() == "sqlite" and db and db != ":memory:"
            path = (Path(db).parent if sqlite_file else REPO_ROOT / "data") / "imports"
        path.mkdir(mode=0o700, parents=True, exist_ok=True)
        with contextlib.suppress(OSError):  # made earlier, or by hand: private all the same
            path.chmod(0o700)
        return path

    async def save(self, desk: Desk, upload: Any, file_name: str) -> Path:
        """The uploaded file (starlette's UploadFile) copied in chunks under a random
        name; refused (UploadRefused, nothing kept) when it is no .xlsx/.csv, empty
        or over the limit."""
        suffix = Path(file_name).suffix.lower()
        if suffix not in SUFFIXES:
            raise UploadRefused(texts.IMPORT_BAD_TYPE)
        head = await upload.read(len(XLSX_MAGIC))
        if not head:
            raise UploadRefused(texts.IMPORT_EMPTY)
        if (suffix == ".xlsx") != head.startswith(XLSX_MAGIC):
            raise UploadRefused(texts.IMPORT_BAD_TYPE)
        self.sweep(desk)
        path = self.directory(desk) / f"{secrets.token_hex(16)}{suffix}"
        size = len(head)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "wb") as out:
                out.write(head)
                while chunk := await upload.read(CHUNK):
                    size += len(chunk)
                    if size > self.max_bytes:
                        raise UploadRefused(self.too_big(), 413)
                    await asyncio.to_thread(out.write, chunk)
        except BaseException:
            path.unlink(missing_ok=True)
            raise
        return path

    def too_big(self) -> str:
        return texts.IMPORT_TOO_BIG.format(mb=self.megabytes)

    @property
    def megabytes(self) -> str:
        return f"{round(self.max_bytes / (1024 * 1024), 1):g}"

    # -- the jobs -----------------------------------------------------------------

    @staticmethod
    def new_id() -> str:
        return secrets.token_urlsafe(18)

    def add(self, job: ImportJob) -> ImportJob:
        """Keep the job; it (and its files) go `keep` seconds on, or when it ends if
        it still reads then, even if nobody opens the page again."""
        self.jobs[job.id] = job
        asyncio.get_running_loop().call_later(self.keep, self._expire, job.id)
        return job

    def _expire(self, job_id: str) -> None:
        job = self.jobs.get(job_id)
        if job is None:
            return
        if job.busy:
            asyncio.get_running_loop().call_later(60.0, self._expire, job_id)
            return
        self.drop(job)

    def get(self, job_id: str, owner_id: int) -> ImportJob | None:
        """The job when it is this member's; None else (another's job does not exist)."""
        job = self.jobs.get(job_id)
        return job if job is not None and job.owner_id == owner_id else None

    def busy(self) -> ImportJob | None:
        return next((j for j in self.jobs.values() if j.busy), None)

    def latest_of(self, owner_id: int) -> list[ImportJob]:
        mine = [j for j in self.jobs.values() if j.owner_id == owner_id]
        return sorted(mine, key=lambda j: j.created, reverse=True)

    def drop(self, job: ImportJob) -> None:
        """Forget a job and delete its files (cancelled, or expired)."""
        self.jobs.pop(job.id, None)
        errors = job.errors_file
        for path in (job.path, errors):
            if path is not None:
                path.unlink(missing_ok=True)

    def sweep(self, desk: Desk) -> None:
        """Jobs finished more than KEEP ago are dropped; files left by a restart too."""
        now = time.monotonic()
        for job in list(self.jobs.values()):
            if not job.busy and now - job.created > self.keep:
                self.drop(job)
        kept = {j.path.name for j in self.jobs.values()}
        kept |= {p.name for j in self.jobs.values() if (p := j.errors_file) is not None}
        with contextlib.suppress(OSError):
            for path in self.directory(desk).iterdir():
                if path.name not in kept and time.time() - path.stat().st_mtime > self.keep:
                    path.unlink(missing_ok=True)

    # -- running --------------------------------------------------------------------

    def start(self, desk: Desk, job: ImportJob, *, dry_run: bool) -> None:
        """The preview (dry run) or the import as a background task of this process."""
        job.state, job.done, job.error = ("previewing" if dry_run else "running"), 0, ""
        job.task = asyncio.create_task(self._run(desk, job, dry_run=dry_run))

    async def _run(self, desk: Desk, job: ImportJob, *, dry_run: bool) -> None:
        def progress(done: int, expected: int | None) -> None:
            job.done = done
            if expected is not None:
                job.expected = expected

        try:
            report = await run_import(desk, job, dry_run=dry_run, progress=progress)
        except DeskError as exc:
            job.state, job.error = "failed", mask_phones_in_text(str(exc))
        except Exception as exc:  # a bug or the database: the page says so, the log has it
            log.exception("import %s failed: %s", job.id, mask_phones_in_text(str(exc))[:300])
            job.state, job.error = "failed", texts.IMPORT_CRASHED
        else:
            if dry_run:
                job.preview, job.state = report, "previewed"
                return  # the file waits for 确认导入
            job.report, job.state = report, "done"
        job.path.unlink(missing_ok=True)  # the upload is not kept once its job ended

    async def cancel(self, job: ImportJob) -> None:
        if job.task is not None and not job.task.done():
            job.task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await job.task
        self.drop(job)


async def run_import(desk: Desk, job: ImportJob, *, dry_run: bool, progress: Any) -> ImportReport:
    """Read the job's file and import it (or, dry, say what an import would do); after
    a real import with refused rows, those rows as an .xlsx beside the file.
    The file is parsed in a worker thread, a chunk at a time: the bot keeps answering."""
    refused: dict[int, str] = {}  # line -> why: the errors file reads the cells again

    def reject(row: RejectedRow) -> None:
        refused[row.line] = row.reason

    with open_reader(desk, job) as reader:
        job.headers, job.expected = reader.headers, reader.expected_rows

        async def rows() -> AsyncIterator[Any]:
            stream = reader.rows()
            while chunk := await asyncio.to_thread(_take, stream, READ_CHUNK):
                for row in chunk:
                    if job.kind == "owners" and isinstance(row, RejectedRow):
                        reject(row)  # the owners' import names only the reader's refusals
                    yield row

        if job.kind == "leads":
            report = await desk.import_leads(
                rows(), source=job.source, actor=job.actor, dry_run=dry_run,
                progress=progress, rejects=reject, total=job.expected,
            )  # fmt: skip
        else:
            report = await desk.import_owners(rows(), dry_run=dry_run, progress=progress)
    if refused and not dry_run:
        path = errors_path_for(job.path)
        await asyncio.to_thread(_write_errors, desk, job, path, refused)
        report.errors_file = str(path)
    return report


def _take(stream: Iterator[Any], count: int) -> list[Any]:
    return list(itertools.islice(stream, count))


def _write_errors(desk: Desk, job: ImportJob, path: Path, refused: dict[int, str]) -> None:
    """The refused rows with their reasons, their cells read again from the file
    (streamed: memory stays flat whatever the file's size)."""
    with open_reader(desk, job) as reader:
        rows = (
            RejectedRow(row.line, refused[row.line], row.cells)
            for row in reader.rows()
            if row.line in refused
        )
        write_errors(path, reader.header_cells, rows)


@contextlib.contextmanager
def open_reader(desk: Desk, job: ImportJob) -> Iterator[ImportFile[Any]]:
    """The job's file opened by the desk's reader (its headers, its rows), with the
    moment of the upload as "now" (the preview and the import judge dates alike)."""
    tz = desk.settings.tz
    if job.kind == "leads":
        with open_lead_file(job.path, source=job.source, tz=tz, now=job.now) as reader:
            yield reader
    else:
        with open_owner_file(job.path, tz=tz, now=job.now) as reader:
            yield reader


JOBS = ImportJobs()
