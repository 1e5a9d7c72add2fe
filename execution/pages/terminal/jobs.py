"""Work on the terminal: start (one job, or several together), stop, report progress and
scrap, report as finished from the order's last operation."""

from django.contrib import messages
from django.http import Http404
from django.shortcuts import get_object_or_404
from django.views.decorators.http import require_http_methods, require_POST

from inventory.choices import Tracking
from inventory.fields import show

from ...choices import JobKind, RegistrationKind
from ...services.limits import job_limits, last_operations
from .forms import BundleForm, FinishForm, ProgressForm, StartForm
from .posting import form_page, job_figures, one_tap, register, terminal_jobs
from .session import to_screen, worker_view

K = RegistrationKind


@worker_view
@require_http_methods(["GET", "POST"])
def job_start(request, terminal, worker, job_id):
    """The start form: the quantity to start, the rest of the job by default. A post
    without a quantity starts the rest (as over the API)."""
    # Only jobs of this terminal's resource start here; the service decides the rest.
    job = get_object_or_404(terminal_jobs(), pk=job_id, resource=terminal.resource)
    # The door's own figures (accepted registrations included): the form offers what the
    # service will accept.
    limits = job_limits(job=job)
    unit = job.order.unit.code
    form = StartForm(
        request.POST or None,
        initial={"page": request.GET.get("page")},
        job=job,
        rest=limits.rest,
        startable=limits.startable,
        unit=unit,
    )
    if request.method == "POST" and form.is_valid():
        quantity = form.cleaned_data.get("quantity")
        what = f"job {job} started"
        if quantity is not None and job.kind == JobKind.PROCESS:
            what += f" ({show(quantity)} {unit})"
        if register(
            request,
            terminal,
            worker,
            form.cleaned_data["registration_uuid"],
            K.START_JOB,
            what,
            job=job,
            quantity=quantity,
        ):
            return to_screen(terminal, page=form.cleaned_data.get("page"))
    return form_page(
        request,
        terminal,
        worker,
        form,
        title="Start job",
        submit="Start",
        job=job,
        figures={**job_figures(job), "started": show(limits.started)},
        starting=True,
    )


@worker_view
@require_POST
def job_stop(request, terminal, worker, job_id):
    job = get_object_or_404(terminal_jobs(), pk=job_id)
    return one_tap(request, terminal, worker, K.STOP_JOB, f"job {job} stopped", job=job)


@worker_view
@require_POST
def bundle_start(request, terminal, worker):
    form = BundleForm(request.POST, jobs=terminal_jobs().filter(resource=terminal.resource))
    if not form.is_valid():
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, error)
        return to_screen(terminal, page=request.POST.get("page"))
    jobs = sorted(form.cleaned_data["jobs"], key=lambda job: (job.sequence, job.pk))
    register(
        request,
        terminal,
        worker,
        form.cleaned_data["registration_uuid"],
        K.BUNDLE,
        f"{len(jobs)} jobs started together ({', '.join(str(job) for job in jobs)})",
        jobs=jobs,
    )
    return to_screen(terminal, page=request.POST.get("page"))


@worker_view
@require_http_methods(["GET", "POST"])
def progress(request, terminal, worker, job_id):
    job = get_object_or_404(terminal_jobs(), pk=job_id)
    form = ProgressForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        unit = job.order.unit.code
        if register(
            request,
            terminal,
            worker,
            data["registration_uuid"],
            K.REPORT_PROGRESS,
            f"{show(data['quantity_good'])} {unit} good, "
            f"{show(data['quantity_scrap'])} {unit} scrap on {job}",
            job=job,
            quantity_good=data["quantity_good"],
            quantity_scrap=data["quantity_scrap"],
            reason_code=data["reason_code"],
            stops_job=data["stops_job"],
            completes_job=data["completes_job"],
        ):
            return to_screen(terminal)
    return form_page(
        request,
        terminal,
        worker,
        form,
        title="Report progress",
        submit="Report",
        job=job,
        figures=job_figures(job),
    )


@worker_view
@require_http_methods(["GET", "POST"])
def finish(request, terminal, worker, job_id):
    """Report as finished on the job's order (lot or serial number for tracked items), from
    its last operation: what that operation output is what is finished."""
    job = get_object_or_404(terminal_jobs(), pk=job_id, kind=JobKind.PROCESS)
    order = job.order
    if last_operations([order.pk]).get(order.pk) != job.operation_number:
        raise Http404("Report as finished is made at the order's last operation.")
    tracking = order.item.tracking
    form = FinishForm(request.POST or None, tracked=tracking != Tracking.NONE)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        lot = data.get("lot_number", "")
        if register(
            request,
            terminal,
            worker,
            data["registration_uuid"],
            K.REPORT_AS_FINISHED,
            f"{show(data['quantity_good'])} {order.unit.code} of {order.item.part_number} "
            f"finished on order {order.number}" + (f", lot {lot}" if lot else ""),
            order=order,
            job=job,
            quantity_good=data["quantity_good"],
            quantity_scrap=data["quantity_scrap"],
            reason_code=data["reason_code"],
            lot_number=lot,
        ):
            return to_screen(terminal)
    return form_page(
        request,
        terminal,
        worker,
        form,
        title="Report as finished",
        submit="Report as finished",
        job=job,
        figures={
            "good": show(order.quantity_completed),
            "scrap": show(order.quantity_scrapped),
            "planned": show(order.quantity),
        },
        tracking=tracking if tracking != Tracking.NONE else "",
        finishing=True,
    )
