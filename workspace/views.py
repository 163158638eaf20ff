"""Account, workspace and notification pages. Thin: parse, authorise, call a service."""

from __future__ import annotations

from functools import wraps

from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db import transaction
from django.http import HttpRequest, HttpResponse, HttpResponseForbidden, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from . import email_addresses, selectors, services, text_gate
from .audit import client_ip
from .forms import (
    ClinicianSignUpForm,
    PatientInviteForm,
    PatientProfileForm,
    PatientSignUpForm,
    ProfileForm,
    RedeemCodeForm,
    WorkspaceForm,
    WorkspaceInviteForm,
)
from .models import (
    ClinicianProfile,
    Membership,
    Notification,
    PatientInvite,
    WorkspaceInvitation,
)


def _kind_required(check, reason: str):
    def decorator(view):
        @login_required
        @wraps(view)
        def wrapper(request: HttpRequest, *args, **kwargs):
            if not check(request.user):
                raise PermissionDenied(reason)
            return view(request, *args, **kwargs)

        return wrapper

    return decorator


clinician_required = _kind_required(
    lambda u: u.is_clinician, "This page is for clinicians."
)


def verified_clinician_required(view):
    """403 with ``services.VERIFICATION_NEEDED`` (JSON when asked) for
    clinicians whose registration is not verified."""

    @clinician_required
    @wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs):
        if not request.user.is_verified_clinician:
            if request.headers.get("Accept", "").startswith("application/json"):
                return JsonResponse(
                    {
                        "ok": False,
                        "code": "unverified",
                        "error": services.VERIFICATION_NEEDED,
                    },
                    status=403,
                )
            raise PermissionDenied(services.VERIFICATION_NEEDED)
        return view(request, *args, **kwargs)

    return wrapper


patient_required = _kind_required(lambda u: u.is_patient, "This page is for patients.")


def _sign_up(request, form, *, sign_up, errors, welcome: str, template: str):
    """The sign-up flow both kinds of account share: on a valid POST,
    ``sign_up(data, **account)`` makes the user from the form's data and the
    account fields every kind has; a domain error listed in ``errors`` (class →
    form field) goes onto its field; success logs in, welcomes and goes home."""
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            user = sign_up(
                data,
                username=data["username"],
                email=data["email"],
                password=data["password1"],
                first_name=data["first_name"],
                last_name=data["last_name"],
                ip=client_ip(request),
                url_builder=request.build_absolute_uri,
            )
        except tuple(errors) as exc:
            field = next(f for cls, f in errors.items() if isinstance(exc, cls))
            form.add_error(field, str(exc))
        else:
            login(request, user, backend="django.contrib.auth.backends.ModelBackend")
            messages.success(request, welcome)
            return redirect("home")
    return render(request, template, {"form": form})


def signup_clinician(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        return redirect("home")
    return _sign_up(
        request,
        ClinicianSignUpForm(request.POST or None),
        sign_up=lambda data, **account: services.clinician_sign_up(
            **account,
            title=data["title"],
            specialties=list(data["specialties"]),
            registration_number=data["registration_number"],
            registration_body=data["registration_body"],
            institution=data["institution"],
        ),
        errors={services.EmailTaken: "email"},
        welcome="Welcome to Consilium. Staff will verify your registration; until "
        "then you see only your own cases. We sent you a link to confirm your "
        "email address.",
        template="registration/signup_clinician.html",
    )


def signup_patient(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        return redirect("home")
    return _sign_up(
        request,
        PatientSignUpForm(
            request.POST or None, initial={"code": request.GET.get("code", "")}
        ),
        sign_up=lambda data, **account: services.patient_sign_up(
            code=data["code"], **account
        ),
        errors={services.InviteCodeError: "code", services.EmailTaken: "email"},
        welcome="Your account is linked to your clinician. We sent you a link to "
        "confirm your email address.",
        template="registration/signup_patient.html",
    )


@login_required
def profile(request: HttpRequest) -> HttpResponse:
    user = request.user
    if user.is_patient:
        form = PatientProfileForm(
            request.POST or None, instance=user, initial={"email": user.email}
        )
        if request.method == "POST" and form.is_valid():
            with transaction.atomic():
                if _email_change(request, form):
                    form.save()
                    messages.success(request, "Profile saved.")
                    return redirect("profile")
        return render(
            request,
            "workspace/profile_patient.html",
            {
                "form": form,
                "links": selectors.clinicians_of(user),
                "redeem": RedeemCodeForm(),
            },
        )
    profile_obj, _ = ClinicianProfile.objects.get_or_create(user=user)
    form = ProfileForm(
        request.POST or None,
        instance=profile_obj,
        initial={
            "first_name": user.first_name,
            "last_name": user.last_name,
            "email": user.email,
            "time_zone": user.time_zone,
        },
    )
    if request.method == "POST" and form.is_valid():
        with transaction.atomic():
            if _email_change(request, form):
                registration_changed = "registration_number" in form.changed_data
                form.save()
                user.first_name = form.cleaned_data["first_name"]
                user.last_name = form.cleaned_data["last_name"]
                user.time_zone = form.cleaned_data["time_zone"]
                user.save(update_fields=["first_name", "last_name", "time_zone"])
                if registration_changed and profile_obj.is_verified:
                    # A new registration number needs fresh verification.
                    profile_obj.verification = ClinicianProfile.Verification.UNVERIFIED
                    profile_obj.save(update_fields=["verification"])
                messages.success(request, "Profile saved.")
                return redirect("profile")
    return render(
        request, "workspace/profile.html", {"form": form, "profile": profile_obj}
    )


def _email_change(request: HttpRequest, form) -> bool:
    """Start confirming a changed address; False (with a form error) if refused."""
    try:
        sent = email_addresses.email_change_request(
            user=request.user,
            address=form.cleaned_data["email"],
            url_builder=request.build_absolute_uri,
            ip=client_ip(request),
        )
    except email_addresses.EmailError as exc:
        form.add_error("email", str(exc))
        return False
    # Only the address fields: the patient form's instance is this user, and
    # its other edits (name, time zone) must survive until form.save().
    request.user.refresh_from_db(
        fields=["email", "pending_email", "email_confirmed_at"]
    )
    if sent:
        messages.info(
            request,
            f"We sent a confirmation link to {request.user.pending_email}. Your "
            "address changes once you follow it.",
        )
    return True


@require_POST
@login_required
def email_confirmation_resend(request: HttpRequest) -> HttpResponse:
    try:
        address = email_addresses.email_confirmation_send(
            user=request.user, url_builder=request.build_absolute_uri
        )
    except email_addresses.EmailError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, f"We sent a new confirmation link to {address}.")
    return redirect("profile")


def email_confirm(request: HttpRequest, token: str) -> HttpResponse:
    """GET shows what the link confirms; POST confirms (mail scanners only GET)."""
    if request.method == "POST":
        try:
            user = email_addresses.email_confirm(token=token, ip=client_ip(request))
        except email_addresses.EmailError as exc:
            return render(
                request,
                "registration/email_confirm.html",
                {"error": str(exc)},
                status=400,
            )
        messages.success(request, f"{user.email} is confirmed.")
        return redirect("profile" if request.user.is_authenticated else "login")
    try:
        account, address = email_addresses.confirmation_preview(token)
    except email_addresses.EmailError as exc:
        return render(
            request, "registration/email_confirm.html", {"error": str(exc)}, status=400
        )
    return render(
        request,
        "registration/email_confirm.html",
        {"account": account, "address": address},
    )


@require_POST
@clinician_required
def request_verification(request: HttpRequest) -> HttpResponse:
    try:
        services.verification_request(user=request.user, ip=client_ip(request))
    except services.ServiceError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(
            request, "Verification requested. Staff will review your registration."
        )
    return redirect("profile")


@require_POST
@login_required
def redeem_code(request: HttpRequest) -> HttpResponse:
    form = RedeemCodeForm(request.POST)
    if form.is_valid():
        try:
            services.invite_code_redeem(
                patient=request.user,
                code=form.cleaned_data["code"],
                ip=client_ip(request),
            )
        except services.ServiceError as exc:
            messages.error(request, str(exc))
        else:
            messages.success(request, "You are now linked to another clinician.")
    else:
        messages.error(request, form.errors["code"][0])
    return redirect("profile")


# --- Workspaces ---------------------------------------------------------------------


@clinician_required
def workspace_list(request: HttpRequest) -> HttpResponse:
    gate = text_gate.gate()
    form = WorkspaceForm(request.POST or None)
    status = 200
    if request.method == "POST" and form.is_valid():
        dismissed = gate.dismissed_keys(request.POST)
        try:
            workspace = services.workspace_create(
                name=form.cleaned_data["name"],
                description=form.cleaned_data["description"],
                by=request.user,
                dismissed=dismissed,
            )
        except gate.refused as exc:
            gate.attach_findings(form, exc, dismissed=dismissed)
            status = 400
        else:
            messages.success(request, f"Created {workspace.name}.")
            return redirect(workspace)
    return render(
        request,
        "workspace/workspace_list.html",
        {
            "workspaces": selectors.workspaces_for(request.user),
            "invitations": selectors.pending_invitations_for(request.user),
            "form": form,
        },
        status=status,
    )


@clinician_required
def workspace_detail(request: HttpRequest, slug: str) -> HttpResponse:
    workspace, membership = selectors.workspace_get_for(request.user, slug)
    form = WorkspaceInviteForm(request.POST or None)
    if request.method == "POST":
        if not membership.can_manage:
            return HttpResponseForbidden("Only owners and admins can invite.")
        if form.is_valid():
            try:
                outcome = services.workspace_invite(
                    workspace=workspace,
                    by=request.user,
                    who=form.cleaned_data["who"],
                    role=form.cleaned_data["role"],
                    accept_url_builder=request.build_absolute_uri,
                )
            except services.ServiceError as exc:
                form.add_error("who", str(exc))
            else:
                target = outcome.invitation.invitee or outcome.invitation.email
                messages.success(request, f"Invitation sent to {target}.")
                return redirect(workspace)
    pending = workspace.invitations.filter(status=WorkspaceInvitation.Status.PENDING)
    return render(
        request,
        "workspace/workspace_detail.html",
        {
            "workspace": workspace,
            "membership": membership,
            "members": selectors.members_of(workspace),
            "pending": pending.select_related("invitee"),
            "form": form,
        },
    )


@require_POST
@clinician_required
def workspace_member_remove(
    request: HttpRequest, slug: str, member_id: int
) -> HttpResponse:
    workspace, _ = selectors.workspace_get_for(request.user, slug)
    membership = get_object_or_404(Membership, workspace=workspace, pk=member_id)
    try:
        services.membership_remove(membership=membership, by=request.user)
    except services.ServiceError as exc:
        messages.error(request, str(exc))
        return redirect(workspace)
    messages.success(request, f"Removed {membership.user.display_name}.")
    if membership.user_id == request.user.pk:
        return redirect("workspace_list")
    return redirect(workspace)


@login_required
def workspace_invitation(request: HttpRequest, token: str) -> HttpResponse:
    invitation = get_object_or_404(
        WorkspaceInvitation.objects.select_related("workspace", "invited_by"),
        token=token,
    )
    if request.method == "POST":
        accept = request.POST.get("action") == "accept"
        try:
            services.workspace_invitation_respond(
                invitation=invitation, user=request.user, accept=accept
            )
        except services.ServiceError as exc:
            messages.error(request, str(exc))
            return redirect("workspace_list")
        if accept:
            messages.success(request, f"You joined {invitation.workspace.name}.")
            return redirect(invitation.workspace)
        messages.info(request, "Invitation declined.")
        return redirect("workspace_list")
    return render(request, "workspace/invitation.html", {"invitation": invitation})


# --- Patients (clinician side) ----------------------------------------------------------


@clinician_required
def patient_list(request: HttpRequest) -> HttpResponse:
    """Linked patients, and (verified clinicians only) new invite codes."""
    verified = request.user.is_verified_clinician
    if request.method == "POST" and not verified:
        raise PermissionDenied(services.VERIFICATION_NEEDED)
    form = PatientInviteForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        invite = services.patient_invite_create(
            clinician=request.user, note=form.cleaned_data["note"]
        )
        messages.success(request, f"New invite code: {invite.code}")
        return redirect("patient_list")
    invites = PatientInvite.objects.filter(
        clinician=request.user, used_at__isnull=True
    )[:20]
    return render(
        request,
        "workspace/patient_list.html",
        {
            "links": selectors.patients_of(request.user),
            "invites": invites,
            "form": form,
            "verified": verified,
            "verification_needed": services.VERIFICATION_NEEDED,
            "signup_path": "/accounts/signup/patient/",
        },
    )


# --- Notifications ---------------------------------------------------------------------


@login_required
def notification_list(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        ids = [int(i) for i in request.POST.getlist("id") if i.isdigit()] or None
        services.notifications_mark_read(user=request.user, ids=ids)
        if request.headers.get("Accept", "").startswith("application/json"):
            return JsonResponse(
                {"unread": selectors.unread_notification_count(request.user)}
            )
        return redirect("notification_list")
    page = Paginator(Notification.objects.filter(user=request.user), 30).get_page(
        request.GET.get("page")
    )
    return render(request, "workspace/notification_list.html", {"page": page})


@login_required
def notification_open(request: HttpRequest, pk: int) -> HttpResponse:
    notification = get_object_or_404(Notification, pk=pk, user=request.user)
    services.notifications_mark_read(user=request.user, ids=[notification.pk])
    target = notification.url or "notification_list"
    if target.startswith("/") and not target.startswith("//"):
        return redirect(target)
    return redirect("notification_list")


def login_locked_out(request: HttpRequest, credentials: dict | None = None):
    """django-axes' lockout page: who is paused, for how long, and what to do."""
    from django.conf import settings

    username = (credentials or {}).get("username") or request.POST.get("username", "")
    return render(
        request,
        "registration/lockout.html",
        {
            "username": username,
            "failure_limit": settings.AXES_FAILURE_LIMIT,
            "cooloff_minutes": int(settings.AXES_COOLOFF_TIME.total_seconds() // 60),
        },
        status=429,
    )
