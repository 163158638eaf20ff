"""A clinician's diagnostic track record: scores, calibration and its plot.

Read side of :mod:`diagnoses.scoring`. :func:`track_record` sums a
user's :class:`~diagnoses.models.DiagnosisScore` rows (one query): scored cases,
mean Brier and log score, top-1 accuracy, the same per specialty, and the
calibration table: every scored likelihood falls in one of ten bins
(0–10 %, 10–20 % … 90–100 %, the last closed), and each bin gives the mean
predicted likelihood and the observed frequency of the outcome.
:func:`calibration_svg` draws that table server-side as an accessible SVG
(title, description, a diagonal for perfect calibration, one point per
non-empty bin sized by its count).

Who sees it: the clinician always; others only after the clinician chose
"Show on my profile" (:class:`~diagnoses.models.TrackRecordPreference`).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

from diagnoses.models import DiagnosisScore, TrackRecordPreference
from workspace.models import User

__all__ = [
    "BINS",
    "CalibrationBin",
    "TrackRecord",
    "calibration_bins",
    "calibration_svg",
    "track_record",
    "track_record_shown",
    "track_record_visible_to",
]

BINS = 10


@dataclass
class CalibrationBin:
    low: int  # percent
    high: int
    count: int = 0
    predicted: float | None = None  # mean forecast, 0–1
    observed: float | None = None  # share of outcomes that happened, 0–1

    @property
    def label(self) -> str:
        return f"{self.low}–{self.high}%"


@dataclass
class Summary:
    name: str
    cases: int = 0
    brier: float | None = None
    log_score: float | None = None
    top1: float | None = None  # share of cases, 0–1


@dataclass
class TrackRecord:
    user: User
    overall: Summary
    specialties: list[Summary] = field(default_factory=list)
    bins: list[CalibrationBin] = field(default_factory=list)
    forecasts: int = 0

    @property
    def cases(self) -> int:
        return self.overall.cases


def calibration_bins(pairs: list[tuple[float, int]]) -> list[CalibrationBin]:
    """Ten bins of predicted likelihood with the observed frequency in each."""
    bins = [CalibrationBin(low=i * 10, high=(i + 1) * 10) for i in range(BINS)]
    sums: dict[int, list[float]] = defaultdict(lambda: [0.0, 0.0, 0])
    for p, o in pairs:
        index = min(BINS - 1, int(p * BINS))
        acc = sums[index]
        acc[0] += p
        acc[1] += o
        acc[2] += 1
    for index, (p_sum, o_sum, n) in sums.items():
        b = bins[index]
        b.count = int(n)
        b.predicted = round(p_sum / n, 4)
        b.observed = round(o_sum / n, 4)
    return bins


def _summary(name: str, scores: list[DiagnosisScore]) -> Summary:
    n = len(scores)
    if not n:
        return Summary(name=name)
    return Summary(
        name=name,
        cases=n,
        brier=round(sum(s.brier for s in scores) / n, 3),
        log_score=round(sum(s.log_score for s in scores) / n, 3),
        top1=round(sum(1 for s in scores if s.top1) / n, 3),
    )


def track_record(user: User) -> TrackRecord:
    """Everything the track-record page shows for ``user`` (one query)."""
    scores = list(
        DiagnosisScore.objects.filter(user=user)
        .select_related("specialty")
        .order_by("specialty__name", "id")
    )
    by_specialty: dict[str, list[DiagnosisScore]] = defaultdict(list)
    pairs: list[tuple[float, int]] = []
    for s in scores:
        by_specialty[s.specialty.name if s.specialty else "No specialty"].append(s)
        pairs.extend((float(p), int(o)) for p, o in s.forecasts)
    return TrackRecord(
        user=user,
        overall=_summary("All specialties", scores),
        specialties=[_summary(name, group) for name, group in by_specialty.items()],
        bins=calibration_bins(pairs),
        forecasts=len(pairs),
    )


def track_record_shown(user: User) -> bool:
    return TrackRecordPreference.objects.filter(user=user, shown=True).exists()


def track_record_visible_to(owner: User, viewer: User) -> bool:
    """The clinician sees their own; others only once it is shown."""
    if not viewer.is_authenticated or not viewer.is_clinician:
        return False
    return owner.pk == viewer.pk or track_record_shown(owner)


# --- The plot ---------------------------------------------------------------------

SIZE = 320
PAD = 44


def _x(value: float) -> float:
    return round(PAD + value * (SIZE - 2 * PAD), 1)


def _y(value: float) -> float:
    return round(SIZE - PAD - value * (SIZE - 2 * PAD), 1)


def calibration_svg(
    record: TrackRecord, *, element_id: str = "calibration"
) -> SafeString:
    """The calibration plot as inline SVG (escaped, no script, no external refs)."""
    bins = [b for b in record.bins if b.count]
    described = "; ".join(
        f"{b.label}: {b.count} estimate{'s' if b.count != 1 else ''}, "
        f"mean {b.predicted * 100:.0f}%, observed {b.observed * 100:.0f}%"
        for b in bins
    )
    title = f"Calibration of {record.user.display_name}'s likelihoods"
    desc = (
        f"{record.forecasts} likelihoods from {record.cases} scored case"
        f"{'s' if record.cases != 1 else ''}, in ten bins. The diagonal is perfect "
        "calibration: points below it are overconfident. "
        + (described or "No scored likelihoods yet.")
    )
    ticks = format_html_join(
        "",
        '<line class="cal-grid" x1="{0}" y1="{2}" x2="{0}" y2="{3}"'
        ' stroke="#d0d5dd"></line>'
        '<line class="cal-grid" x1="{2}" y1="{1}" x2="{3}" y2="{1}"'
        ' stroke="#d0d5dd"></line>'
        '<text class="cal-tick" x="{0}" y="{4}" text-anchor="middle" '
        'font-size="11" fill="#475467">{5}</text>'
        '<text class="cal-tick" x="{6}" y="{1}" text-anchor="end" font-size="11" fill="#475467" '
        'dominant-baseline="middle">{5}</text>',
        (
            (
                _x(t / 100),
                _y(t / 100),
                _x(0),
                _x(1),
                SIZE - PAD + 16,
                f"{t}",
                PAD - 6,
            )
            for t in range(0, 101, 25)
        ),
    )
    points = format_html_join(
        "",
        '<circle class="cal-point" cx="{}" cy="{}" r="{}" data-bin="{}" '
        'data-count="{}" fill="#1d4ed8" fill-opacity="0.8"><title>{}: {} estimates, observed {}%</title></circle>',
        (
            (
                _x(b.predicted),
                _y(b.observed),
                min(12, 3 + b.count**0.5 * 1.5),
                b.label,
                b.count,
                b.label,
                b.count,
                f"{b.observed * 100:.0f}",
            )
            for b in bins
        ),
    )
    path = " ".join(
        f"{'M' if i == 0 else 'L'}{_x(b.predicted)},{_y(b.observed)}"
        for i, b in enumerate(bins)
    )
    return format_html(
        '<svg class="calibration-plot" id="{id}" viewBox="0 0 {s} {s}" width="{s}" '
        'height="{s}" role="img" aria-labelledby="{id}-title {id}-desc" '
        'xmlns="http://www.w3.org/2000/svg" data-points="{n}">'
        '<title id="{id}-title">{title}</title><desc id="{id}-desc">{desc}</desc>'
        '<rect class="cal-frame" x="{p}" y="{p}" width="{inner}" height="{inner}" '
        'fill="none" stroke="#98a2b3"></rect>{ticks}'
        '<line class="cal-diagonal" x1="{x0}" y1="{y0}" x2="{x1}" y2="{y1}" '
        'stroke="#667085" stroke-dasharray="4 4" data-reference="perfect"></line>'
        '<path class="cal-line" d="{path}" fill="none" stroke="#1d4ed8" stroke-width="1.5"></path>{points}'
        '<text class="cal-axis" x="{mid}" y="{s}" dy="-4" text-anchor="middle" font-size="12" fill="#344054">'
        "Likelihood given (%)</text>"
        '<text class="cal-axis" x="12" y="{mid}" text-anchor="middle" font-size="12" fill="#344054" '
        'transform="rotate(-90 12 {mid})">Diagnosis confirmed (%)</text></svg>',
        id=element_id,
        s=SIZE,
        n=len(bins),
        title=title,
        desc=desc,
        p=PAD,
        inner=SIZE - 2 * PAD,
        ticks=ticks,
        x0=_x(0),
        y0=_y(0),
        x1=_x(1),
        y1=_y(1),
        path=path,
        points=points,
        mid=SIZE / 2,
    )
