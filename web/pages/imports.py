"""导入 (manager): upload a platform's lead export or the dealer's owner list
(.xlsx/.csv), see the dry run (how the headers were read, what each row would
become), then confirm: the import runs as a background task of the bot process,
the page follows it with a progress bar (htmx polls a fragment) and ends on the
report, with the rejected rows as an .xlsx to fix and import again.

The upload route's body limit is WEB_IMPORT_MAX_BYTES (bot.transport.BodyLimit
acts before the app reads a byte; the route checks Content-Length itself too,
before the form is parsed). The jobs are web.import_jobs.JOBS."""

from __future__ import annotations

import asyncio
import logging
from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Depends, Path, Request
from fastapi.responses import FileResponse, RedirectResponse, Response
from starlette.datastructures import UploadFile

from desk import Desk
from desk.errors import DeskError
from desk.imports.rows import SOURCES
from desk.phone import mask_phones_in_text
from web import texts
from web.core import (
    PREFIX,
    DeskDep,
    DeskRoute,
    FormManagerDep,
    ManagerDep,
    PageError,
    Staff,
    form_staff,
    page,
)
from web.import_jobs import JOBS, ImportJob, UploadRefused, open_reader

log = logging.getLogger(__name__)
router = APIRouter(route_class=DeskRoute)
UPLOAD_PATH = "/imports/upload"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
FORM_OVERHEAD = 64 * 1024  # the multipart framing and the small fields beside the file
JobId = Annotated[str, Path(pattern=r"^[A-Za-z0-9_-]{16,64}$")]


async def upload_manager(request: Request, manager: ManagerDep) -> Staff:
    """A manager's upload whose declared size fits, checked before the body is read
    (the form, CSRF included, is parsed only after)."""
    length = request.headers.get("content-length", "")
    if not (length.isdecimal() and len(length) < 20):
        raise PageError(411, texts.IMPORT_NO_LENGTH)
    if int(length) > JOBS.max_bytes + FORM_OVERHEAD:
        raise PageError(413, JOBS.too_big())
    return await form_staff(request, manager)


UploadManagerDep = Annotated[Staff, Depends(upload_manager)]


def _job(job_id: str, staff: Staff) -> ImportJob:
    job = JOBS.get(job_id, staff.member.id)
    if job is None:
        raise PageError(404, texts.IMPORT_GONE)
    return job


def _imports_page(
    request: Request, manager: Staff, *, status: int = 200, error: str = "",
    form: dict[str, str] | None = None,
) -> Response:  # fmt: skip
    done = texts.IMPORT_CANCELLED if request.query_params.get("done") == "cancelled" else ""
    return page(
        request, "imports.html", manager, status, error=error, done=done, form=form or {},
        jobs=JOBS.latest_of(manager.member.id), busy=JOBS.busy(),
        mb=JOBS.megabytes, sources=SOURCES,
    )  # fmt: skip


@router.get("/imports", name="imports")
async def imports(request: Request, manager: ManagerDep) -> Response:
    return _imports_page(request, manager)


@router.post(UPLOAD_PATH, name="upload_import")
async def upload(request: Request, desk: DeskDep, manager: UploadManagerDep) -> Response:
    form = await request.form()  # parsed already by the CSRF check: the same object
    kind, source = str(form.get("kind", "")), str(form.get("source", ""))

    def refuse(status: int, error: str) -> Response:
        kept = {"kind": kind, "source": source}
        return _imports_page(request, manager, status=status, error=error, form=kept)

    try:
        if kind not in texts.IMPORT_KINDS:
            return refuse(400, texts.IMPORT_BAD_KIND)
        if kind == "leads" and source not in SOURCES:
            return refuse(400, texts.IMPORT_BAD_SOURCE)
        upload = form.get("file")
        if not isinstance(upload, UploadFile) or not upload.filename:
            return refuse(400, texts.IMPORT_NO_FILE)
        if (busy := JOBS.busy()) is not None:
            return refuse(409, texts.IMPORT_BUSY.format(name=busy.file_name))
        try:
            path = await JOBS.save(desk, upload, upload.filename)
        except UploadRefused as exc:
            return refuse(exc.status, str(exc))
    finally:
        await form.close()
    job = ImportJob(
        id=JOBS.new_id(), owner_id=manager.member.id, actor=manager.actor,
        kind="leads" if kind == "leads" else "owners", source=source if kind == "leads" else "other",
        path=path, file_name=upload.filename[-100:], now=desk.clock.now(),
    )  # fmt: skip
    refused = await _readable(desk, job)
    if refused:
        path.unlink(missing_ok=True)
        return refuse(400, texts.IMPORT_UNREADABLE.format(reason=refused))
    if (busy := JOBS.busy()) is not None:  # another upload started while this one was read
        path.unlink(missing_ok=True)
        return refuse(409, texts.IMPORT_BUSY.format(name=busy.file_name))
    JOBS.add(job)
    JOBS.start(desk, job, dry_run=True)
    return RedirectResponse(f"{PREFIX}/imports/{job.id}", status_code=303)


async def _readable(desk: Desk, job: ImportJob) -> str:
    """Why the file cannot be read (its encoding, no header row …); "" when it can.
    Opened in a thread: an .xlsx's shared strings load on open."""

    def check() -> None:
        with open_reader(desk, job) as reader:
            job.headers, job.expected = reader.headers, reader.expected_rows

    try:
        await asyncio.to_thread(check)
    except DeskError as exc:  # ImportFileError: its message is for staff
        return mask_phones_in_text(str(exc))
    except Exception as exc:  # a library's own words on a broken file: not for the page
        log.warning("import upload unreadable: %s", mask_phones_in_text(repr(exc))[:300])
        return texts.IMPORT_BROKEN
    return ""


@router.get("/imports/{job_id}", name="import_job")
async def job_page(request: Request, desk: DeskDep, manager: ManagerDep, job_id: JobId) -> Response:
    job = _job(job_id, manager)
    names = {}
    if job.report is not None and job.report.per_consultant:
        names = {m.id: m.name for m in await desk.members()}
    return page(request, "import_job.html", manager, job=job, names=names, busy=JOBS.busy())


@router.get("/imports/{job_id}/progress", name="import_progress")
async def progress(request: Request, manager: ManagerDep, job_id: JobId) -> Response:
    """The progress bar alone (htmx swaps it every second); once the job is no longer
    reading, htmx is told to load the whole page (the preview or the report)."""
    job = _job(job_id, manager)
    response = page(request, "_import_progress.html", manager, job=job)
    if not job.busy:
        response.headers["HX-Redirect"] = f"{PREFIX}/imports/{job.id}"
    return response


@router.post("/imports/{job_id}/confirm", name="confirm_import")
async def confirm(desk: DeskDep, manager: FormManagerDep, job_id: JobId) -> Response:
    job = _job(job_id, manager)
    if job.state != "previewed":
        return RedirectResponse(f"{PREFIX}/imports/{job.id}", status_code=303)
    if (busy := JOBS.busy()) is not None:
        raise PageError(409, texts.IMPORT_BUSY.format(name=busy.file_name))
    JOBS.start(desk, job, dry_run=False)
    return RedirectResponse(f"{PREFIX}/imports/{job.id}", status_code=303)


@router.post("/imports/{job_id}/cancel", name="cancel_import")
async def cancel(manager: FormManagerDep, job_id: JobId) -> Response:
    job = _job(job_id, manager)
    if job.state == "running":
        raise PageError(409, texts.IMPORT_BUSY.format(name=job.file_name))
    await JOBS.cancel(job)
    return RedirectResponse(f"{PREFIX}/imports?done=cancelled", status_code=303)


@router.get("/imports/{job_id}/errors.xlsx", name="import_errors")
async def errors(manager: ManagerDep, job_id: JobId) -> Response:
    job = _job(job_id, manager)
    path = job.errors_file
    if path is None:
        raise PageError(404, texts.IMPORT_GONE)
    name = quote(texts.IMPORT_ERRORS_FILE)
    disposition = f"attachment; filename=\"import-errors.xlsx\"; filename*=UTF-8''{name}"
    return FileResponse(path, media_type=XLSX, headers={"Content-Disposition": disposition})
