"""The run's review dossier on the page (GET ``/runs/{run}/report``): the same content as
``crewchief report``, from the same ``crewchief.ledger.report.build``."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from crewchief.ledger import report
from crewchief.web.pages import run_or_404
from crewchief.web.site import site_of


def report_page(request: Request) -> Response:
    site = site_of(request)
    with site.ledger() as ledger:
        run_id = run_or_404(ledger, request.path_params["run_id"])
        data = report.build(site.repo, ledger, run_id)
    return site.render(request, "report.html", {"report": data})


ROUTES = [Route("/runs/{run_id}/report", report_page, name="report")]
