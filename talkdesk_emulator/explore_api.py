"""Handlers of the Explore API (report jobs and files) and of the presigned download path."""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import time
from typing import Any

from werkzeug.wrappers import Request, Response

from talkdesk_emulator.faults import FaultState
from talkdesk_emulator.generator import DataGenerator
from talkdesk_emulator.httputil import ApiError, account_path, base_url, int_param, json_response, page_href
from talkdesk_emulator.render import EntryRenderer
from talkdesk_emulator.report_faults import report_file_response
from talkdesk_emulator.reports import Job, JobStore, ReportError, ReportFile, check_report_type

DOWNLOAD_PREFIX = "/_downloads"
DOWNLOAD_EXPIRES_SECONDS = 300


def _s3_error(status: int, code: str, message: str) -> Response:
    body = f'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>{code}</Code><Message>{message}</Message></Error>'
    return Response(body, status=status, mimetype="application/xml")


class ExploreApi:
    def __init__(self, jobs: JobStore, generator: DataGenerator, renderer: EntryRenderer, faults: FaultState) -> None:
        self.jobs = jobs
        self.generator = generator
        self.renderer = renderer
        self.faults = faults
        self._signing_key = secrets.token_bytes(32)

    @staticmethod
    def _as_api_error(error: ReportError) -> ApiError:
        return ApiError(error.status, error.code, error.message, error.description, error.fields)

    def _job_links(self, request: Request, job: Job) -> dict[str, Any]:
        base = f"{base_url(request)}/data/reports/{job.report_type}"
        return {"self": {"href": f"{base}/jobs/{job.id}"}, "files": {"href": f"{base}/files/{job.id}"}}

    def _job_or_404(self, report_type: str, job_id: str, code: str, message: str) -> Job:
        try:
            check_report_type(report_type)
        except ReportError as error:
            raise self._as_api_error(error) from None
        job = self.jobs.get(report_type, job_id)
        if job is None:
            raise ApiError(404, code, message)
        return job

    def create_job(self, request: Request, report_type: str) -> Response:
        try:
            body = json.loads(request.get_data(as_text=True) or "null")
        except ValueError:
            body = None
        settings = self.faults.snapshot()
        try:
            job = self.jobs.create(report_type, body, settings, claim_file_fault=self.faults.claim_report_file_fault)
        except ReportError as error:
            raise self._as_api_error(error) from None
        delay = float(settings["job_create_delay_seconds"])
        if delay > 0:
            # The job exists (listed, counted in the quota) but the answer comes late: a client with a shorter
            # read timeout never sees it, as when a response is lost on the way back.
            time.sleep(delay)
        links = self._job_links(request, job)
        payload = job.body("created")
        if settings["job_body"] == "flat":
            return json_response({**payload, "_links": links}, 202)
        return json_response({"job": payload, "_links": links}, 202)

    def job_status(self, request: Request, report_type: str, job_id: str) -> Response:
        job = self._job_or_404(report_type, job_id, "1020011", "Report execution not found")
        status = job.status(time.monotonic())
        body = {"job": job.body(status), "_links": self._job_links(request, job)}
        settings = self.faults.snapshot()
        if status == "done":
            # Talkdesk answers 303 with the unchanged body; the Location is the path of the files endpoint. Under
            # `job_done_status: 302` the same answer comes as 302, as a public client expects it may.
            location = account_path(request, f"/data/reports/{report_type}/files/{job_id}")
            return json_response(body, settings["job_done_status"], {"Location": location})
        if status in ("created", "processing") and settings["job_pending_status"] == 204:
            return Response(status=204)  # still running, said without a body
        return json_response(body)

    def list_jobs(self, request: Request, report_type: str) -> Response:
        try:
            check_report_type(report_type)
        except ReportError as error:
            raise self._as_api_error(error) from None
        page, per_page = int_param(request, "page", 1), int_param(request, "per_page", 20)
        if page is None or per_page is None or page < 1 or not 1 <= per_page <= 200:
            raise ApiError(400, "1020001", "Input parameters validation failed",
                           fields=[{"name": "page", "description": "page or per_page does not have a valid value"}])
        jobs = self.jobs.of_type(report_type)
        chunk = jobs[(page - 1) * per_page: page * per_page]
        now = time.monotonic()
        path = f"/data/reports/{report_type}/jobs"
        more = page * per_page < len(jobs)
        return json_response({
            "total": len(jobs), "count": len(chunk),
            "_embedded": {"jobs": [{**job.body(job.status(now)), "_links": self._job_links(request, job)}
                                   for job in chunk]},
            "_links": {"self": {"href": page_href(request, path, page, per_page)},
                       "next": {"href": page_href(request, path, page + 1, per_page)} if more else None,
                       "prev": {"href": page_href(request, path, page - 1, per_page)} if page > 1 else None},
        })

    def _signature(self, token: str, issued: int) -> str:
        return hmac.new(self._signing_key, f"{token}:{issued}".encode(), hashlib.sha256).hexdigest()

    def file(self, request: Request, report_type: str, job_id: str) -> Response:
        job = self._job_or_404(report_type, job_id, "1020008", "Report file not found")
        if job.status(time.monotonic()) != "done":
            raise ApiError(404, "1020008", "Report file not found")
        issued = int(time.time())
        extension = "json" if job.format in ("json", "json_bulk") else "csv"
        location = (f"{base_url(request)}{DOWNLOAD_PREFIX}/{job.download_token}.{extension}"
                    f"?X-Amz-Date={issued}&X-Amz-Expires={DOWNLOAD_EXPIRES_SECONDS}"
                    f"&X-Amz-Signature={self._signature(job.download_token, issued)}")
        return json_response({"type": report_type}, 302, {"Location": location})

    def delete_file(self, request: Request, report_type: str, job_id: str) -> Response:
        job = self._job_or_404(report_type, job_id, "1020011", "Report execution not found")
        if job.status(time.monotonic()) != "done":
            raise ApiError(409, "1020007", "Operation not allowed due to the current job status")
        job.deleted = True
        return Response(status=204)

    def download(self, request: Request, name: str) -> Response:
        """The presigned object-store URL: no Authorization header allowed, signature and expiry checked."""
        if "Authorization" in request.headers:
            return _s3_error(400, "InvalidArgument",
                             "Only one auth mechanism allowed; only the X-Amz-Algorithm query parameter, Signature "
                             "query string parameter or the Authorization header should be specified")
        token, _, extension = name.partition(".")
        job = self.jobs.by_download_token(token)
        issued = int_param(request, "X-Amz-Date", -1)
        signature = request.args.get("X-Amz-Signature", "")
        if job is None or job.deleted or issued is None or not hmac.compare_digest(signature, self._signature(token, issued)):
            return _s3_error(403, "AccessDenied", "Access Denied")
        if time.time() > issued + DOWNLOAD_EXPIRES_SECONDS:
            return _s3_error(403, "AccessDenied", "Request has expired")
        report = ReportFile(job, self.generator, self.renderer)
        return report_file_response(report, extension == "csv", job.report_file_fault)
