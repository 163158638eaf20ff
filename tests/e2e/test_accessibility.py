"""Every page, as every kind of user, at 1280 and 375 px: no axe-core
violations (WCAG 2.0/2.1/2.2 A and AA), no sideways scrolling on a phone,
and tap targets of at least 32 px there.

axe-core is vendored from its npm package (tests/e2e/vendor/, see the README
there), so the check runs offline. The demo seed supplies the data: cases with
media, differentials (some ruled out), consults in every state, discussion
threads, patient submissions and a workspace.
"""

from __future__ import annotations

import json
from io import BytesIO, StringIO
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command
from django.test import Client
from playwright.sync_api import expect

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

AXE = Path(__file__).parent / "vendor" / "axe.min.js"
# Evaluated through the DevTools protocol rather than added as a <script>:
# the pages' Content-Security-Policy (nonces only) stays in force.
AXE_SOURCE = AXE.read_text()
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21aa", "wcag22aa"]
WIDTHS = {
    "desktop": {"width": 1280, "height": 900},
    "phone": {"width": 375, "height": 740},
}
MIN_TARGET = 32

# Interactive elements at least MIN_TARGET px both ways on a phone. Exempt, as
# WCAG 2.5.8 allows: links inside running text (display inline, with other text
# in the same block); elements not rendered or visually hidden; a radio or
# checkbox counts with its label, which is part of its target; a visually
# hidden input is judged by its label instead.
TARGETS_JS = """
(min) => {
  const sel = 'a[href], button, input:not([type=hidden]), select, textarea, summary,'
    + ' [role=button], [role=tab], [tabindex]:not([tabindex="-1"])';
  const interactive = 'a[href], button, input, select, textarea, summary, label';
  function ownText(block) {
    let text = '';
    const walker = document.createTreeWalker(block, NodeFilter.SHOW_TEXT);
    while (walker.nextNode()) {
      const node = walker.currentNode;
      if (node.parentElement.closest(interactive)) continue;
      if (node.parentElement.closest('[aria-hidden=true], .visually-hidden')) continue;
      text += node.textContent;
    }
    return text.trim();
  }
  function inRunningText(el) {
    if (el.tagName !== 'A' || getComputedStyle(el).display !== 'inline') return false;
    let block = el.parentElement;
    while (block && getComputedStyle(block).display.startsWith('inline')) {
      block = block.parentElement;
    }
    return !!block && ownText(block).length > 0;
  }
  function box(el) {
    let r = el.getBoundingClientRect();
    if ((el.type === 'radio' || el.type === 'checkbox') && el.labels && el.labels.length) {
      let [l, t, rr, b] = [r.left, r.top, r.right, r.bottom];
      for (const label of el.labels) {
        const lr = label.getBoundingClientRect();
        if (!lr.width) continue;
        l = Math.min(l, lr.left); t = Math.min(t, lr.top);
        rr = Math.max(rr, lr.right); b = Math.max(b, lr.bottom);
      }
      r = {width: rr - l, height: b - t};
    }
    return r;
  }
  const small = [];
  const targets = [];
  for (const el of document.querySelectorAll(sel)) {
    const r = el.getBoundingClientRect();
    // A visually hidden input is operated through its label: check that.
    if (r.width <= 1 || r.height <= 1) {
      if (el.labels) targets.push(...el.labels);
      continue;
    }
    targets.push(el);
  }
  for (const el of targets) {
    const r = el.getBoundingClientRect();
    if (r.width <= 1 || r.height <= 1) continue;
    if (r.right <= 0 || r.bottom <= 0) continue;
    const cs = getComputedStyle(el);
    if (cs.visibility === 'hidden') continue;
    if (el.disabled) continue;
    if (inRunningText(el)) continue;
    const b = box(el);
    if (b.width + 0.5 < min || b.height + 0.5 < min) {
      const name = (el.getAttribute('aria-label') || el.textContent || el.name || el.type || '')
        .replace(/\\s+/g, ' ').trim().slice(0, 40);
      small.push(`${el.tagName.toLowerCase()}${el.className ? '.' + String(el.className).split(' ')[0] : ''}`
        + ` "${name}" ${Math.round(b.width)}x${Math.round(b.height)}`);
    }
  }
  return small;
}
"""

AXE_JS = """
async (tags) => {
  const result = await axe.run(document, {runOnly: {type: 'tag', values: tags}});
  return result.violations.map(v => ({
    id: v.id, impact: v.impact, help: v.help,
    nodes: v.nodes.map(n => n.target.join(' ') + ' :: ' + (n.failureSummary || '').split('\\n').slice(1, 2).join('')),
  }));
}
"""


def _pages() -> dict[str, list[tuple[str, int]]]:
    """The pages each kind of demo user can reach, with the status expected."""
    from cases.models import Case
    from consults.models import ConsultRequest
    from diagnoses.models import Differential
    from portal.models import FindingLink, Submission
    from realtime.models import Message, Thread

    def case(title_start: str) -> Case:
        return Case.objects.get(title__startswith=title_start)

    embolus = case("Pleuritic chest pain")  # media, findings, differentials
    headache = case("Thunderclap headache")  # consults, a ruled-out differential
    rash = case("Expanding annular rash")  # resolved, discussion threads
    polyarthritis = case("Symmetrical small-joint")  # sam's, not ben's
    draft = case("Recurrent dizziness on standing")
    asset = embolus.media.first()
    thread = Thread.objects.filter(case=embolus).order_by("pk").last()
    accepted = ConsultRequest.objects.get(case=headache, status="accepted")
    sam_consult = ConsultRequest.objects.filter(assignee__username="sam").first()
    submission = Submission.objects.order_by("pk").first()
    series = embolus.media.filter(asset__kind="dicom_series").get().asset_id
    ben_dx = Differential.objects.filter(case=embolus, proposed_by__username="ben")
    ben_message = Message.objects.filter(thread__case=embolus, author__username="ben")
    assert Differential.objects.filter(case=headache, status="ruled_out").exists()
    assert FindingLink.objects.filter(case=embolus).exists()

    common = [("/notifications/", 200), ("/accounts/profile/", 200)]
    missing = ("/no-such-page/", 404)
    clinician = [
        ("/", 200),
        ("/cases/", 200),
        (f"/cases/{embolus.pk}/", 200),
        (f"/cases/{headache.pk}/", 200),
        (f"/cases/{rash.pk}/", 200),
        (f"/cases/{embolus.pk}/discussion/", 200),
        (f"/cases/{embolus.pk}/discussion/{thread.pk}/", 200),
        (f"/cases/{embolus.pk}/differentials/history/", 200),
        ("/consults/", 200),
        *common,
        missing,
    ]
    return {
        "anonymous": [
            ("/", 200),
            ("/accounts/login/", 200),
            ("/accounts/signup/", 200),
            ("/accounts/signup/patient/", 200),
            ("/accounts/password_reset/", 200),
            ("/accounts/password_reset/done/", 200),
            ("/accounts/reset/done/", 200),
            missing,
        ],
        # ana: owner of the demo workspace, staff, the patient's clinician.
        "staff": [
            *clinician,
            ("/cases/new/", 200),
            (f"/cases/{draft.pk}/edit/", 200),
            (f"/cases/{embolus.pk}/media/", 200),
            (f"/cases/{embolus.pk}/media/{asset.asset_id}/review/", 200),
            (f"/cases/{embolus.pk}/media/{asset.asset_id}/report/", 200),
            (f"/cases/{embolus.pk}/studies/upload/", 200),
            (f"/cases/{embolus.pk}/series/{series}/", 200),
            (f"/cases/{embolus.pk}/series/{series}/review/", 200),
            (f"/cases/{headache.pk}/consults/new/", 200),
            (f"/consults/{accepted.pk}/", 200),
            (f"/consults/{accepted.pk}/answer/", 200),
            ("/inbox/", 200),
            (f"/inbox/{submission.pk}/", 200),
            ("/workspaces/", 200),
            ("/workspaces/st-demo-medicine/", 200),
            ("/patients/", 200),
            ("/accounts/password_change/", 200),
            ("/accounts/password_change/done/", 200),
        ],
        "clinician": [
            *clinician,
            (f"/cases/{embolus.pk}/edit/", 200),
            (f"/cases/{embolus.pk}/differentials/{ben_dx.first().pk}/edit/", 200),
            (
                f"/cases/{embolus.pk}/discussion/messages/{ben_message.first().pk}/edit/",
                200,
            ),
            (f"/cases/{polyarthritis.pk}/studies/upload/", 403),
        ],
        "specialist": [
            ("/", 200),
            ("/consults/", 200),
            (f"/consults/{sam_consult.pk}/", 200),
            (f"/cases/{polyarthritis.pk}/", 200),
            *common,
        ],
        "unverified": [("/", 200), *common],
        "patient": [
            ("/portal/", 200),
            ("/cases/", 403),
            *common,
            missing,
        ],
    }


USERS = {
    "staff": "ana",
    "clinician": "ben",
    "specialist": "sam",
    "unverified": "uma",
    "patient": "pat",
}


def _context(browser, base_url: str, viewport: dict, username: str | None):
    from workspace.models import User

    context = browser.new_context(base_url=base_url, viewport=viewport)
    if username:
        client = Client()
        client.force_login(User.objects.get(username=username))
        cookie = client.cookies[settings.SESSION_COOKIE_NAME]
        context.add_cookies(
            [
                {
                    "name": settings.SESSION_COOKIE_NAME,
                    "value": cookie.value,
                    "url": base_url,
                }
            ]
        )
    return context


def _audit(page, path: str, status: int, width: str) -> list[str]:
    problems = []
    response = page.goto(path)
    if response.status != status:
        problems.append(f"status {response.status}, expected {status}")
    page.evaluate(AXE_SOURCE)
    for v in page.evaluate(AXE_JS, AXE_TAGS):
        nodes = "; ".join(v["nodes"][:4])
        problems.append(f"axe {v['id']} ({len(v['nodes'])}): {v['help']} -> {nodes}")
    if width == "phone":
        overflow = page.evaluate(
            "[document.documentElement.scrollWidth, window.innerWidth]"
        )
        if overflow[0] > overflow[1]:
            problems.append(f"scrolls sideways: scrollWidth {overflow[0]} > 375")
        small = page.evaluate(TARGETS_JS, MIN_TARGET)
        if small:
            problems.append(f"{len(small)} targets < {MIN_TARGET}px: {small}")
    return problems


@pytest.fixture
def demo(transactional_db):
    """The demo seed, before the browser starts: the seed broadcasts with
    async_to_sync, which Playwright's running event loop would refuse."""
    call_command("seed_demo", stdout=StringIO())


@pytest.fixture
def demo_with_dicom(demo):
    """Plus a small CT series on the embolus case (the demo has no DICOM)."""
    from cases.models import Case
    from tests.fixtures import dicom_factory
    from workspace.models import User

    embolus = Case.objects.get(title__startswith="Pleuritic chest pain")
    files = []
    for index, ds in enumerate(dicom_factory.make_ct_series(3, rows=32, cols=32)):
        handle = BytesIO(dicom_factory.ct_bytes(ds))
        handle.name = f"IM{index}.dcm"
        files.append(handle)
    client = Client()
    client.force_login(User.objects.get(username="ana"))
    response = client.post(
        f"/cases/{embolus.pk}/studies/upload/",
        {"files": files},
        HTTP_ACCEPT="application/json",
    )
    assert response.status_code < 300, response.content


# The audit in six parts, so parallel workers share it: the staff and
# clinician tours are long; the other kinds of user see a few pages each.
AUDIT_GROUPS = {
    "staff": ("staff",),
    "clinician": ("clinician",),
    "others": ("anonymous", "specialist", "unverified", "patient"),
}


def test_audit_groups_cover_every_kind_of_user():
    covered = [kind for kinds in AUDIT_GROUPS.values() for kind in kinds]
    assert sorted(covered) == sorted({"anonymous", *USERS})


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("group", AUDIT_GROUPS)
def test_every_page_has_no_axe_violations_fits_phones_and_has_big_targets(
    demo_with_dicom, asgi_live_server, browser, group, width
):
    pages = _pages()
    failures: dict[str, list[str]] = {}
    visited = 0
    for kind in AUDIT_GROUPS[group]:
        context = _context(browser, asgi_live_server, WIDTHS[width], USERS.get(kind))
        page = context.new_page()
        page.set_default_timeout(15000)
        for path, status in pages[kind]:
            visited += 1
            problems = _audit(page, path, status, width)
            if problems:
                failures[f"{kind} {width} {path}"] = problems
        context.close()
    report = json.dumps(failures, indent=1)
    Path(settings.VAR_DIR, f"a11y-report-{group}-{width}.json").write_text(report)
    assert visited == sum(len(pages[kind]) for kind in AUDIT_GROUPS[group]) > 5
    assert not failures, f"{len(failures)} of {visited} page-views fail:\n{report}"


def test_phone_menu_has_a_name_opens_and_closes_with_escape(
    browser, asgi_live_server, make_clinician
):
    make_clinician("menu", first_name="Mina", last_name="Menu")
    context = _context(browser, asgi_live_server, WIDTHS["phone"], "menu")
    page = context.new_page()
    page.set_default_timeout(15000)
    page.goto("/")
    toggle = page.get_by_role("button", name="Menu")
    nav = page.get_by_role("navigation", name="Primary")
    expect(toggle).to_have_attribute("aria-expanded", "false")
    expect(nav.get_by_role("link", name="Cases")).to_be_hidden()
    toggle.click()
    expect(toggle).to_have_attribute("aria-expanded", "true")
    expect(nav.get_by_role("link", name="Cases")).to_be_visible()
    nav.get_by_role("link", name="Cases").focus()
    page.keyboard.press("Escape")
    expect(toggle).to_have_attribute("aria-expanded", "false")
    expect(nav.get_by_role("link", name="Cases")).to_be_hidden()
    expect(toggle).to_be_focused()

    # The account menu: named on phones (the name text is hidden there).
    summary = page.locator(".user-menu summary")
    expect(summary).to_have_accessible_name("Account menu for Mina Menu")
    summary.click()
    expect(page.get_by_role("button", name="Log out")).to_be_visible()
    page.keyboard.press("Escape")
    expect(page.get_by_role("button", name="Log out")).to_be_hidden()
    expect(summary).to_be_focused()

    # Open menus pass axe too.
    toggle.click()
    summary.click()
    page.evaluate(AXE_SOURCE)
    violations = page.evaluate(AXE_JS, AXE_TAGS)
    assert violations == [], violations
    context.close()


# The focused element's outline, its contrast with what is around it, and
# where it sits against the sticky top bar.
FOCUS_JS = """
() => {
  const rgb = s => (s.match(/[\\d.]+/g) || []).map(Number);
  const lum = c => {
    const f = v => { v /= 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); };
    return 0.2126 * f(c[0]) + 0.7152 * f(c[1]) + 0.0722 * f(c[2]);
  };
  const ratio = (a, b) => { const [x, y] = [lum(a), lum(b)].sort((p, q) => q - p); return (x + 0.05) / (y + 0.05); };
  function around(el) {
    for (let e = el.parentElement; e; e = e.parentElement) {
      const c = rgb(getComputedStyle(e).backgroundColor);
      if (c.length === 3 || c[3] > 0) return c.slice(0, 3);
    }
    return [255, 255, 255];
  }
  const el = document.activeElement;
  const cs = getComputedStyle(el);
  return {
    what: el.tagName.toLowerCase() + ' "' + (el.getAttribute('aria-label') || el.textContent || el.name || '').replace(/\\s+/g, ' ').trim().slice(0, 40) + '"',
    style: cs.outlineStyle, width: parseFloat(cs.outlineWidth),
    ratio: ratio(rgb(cs.outlineColor), around(el)),
    top: el.getBoundingClientRect().top,
    bar: document.querySelector('.topbar').getBoundingClientRect().bottom,
    // The browser rings the controls inside <video controls> itself.
    exempt: !!el.closest('.topbar, .skip-link') || el === document.body
      || el.matches('video[controls], audio[controls]'),
  };
}
"""


def test_focus_ring_contrasts_and_never_hides_under_the_top_bar(
    demo, browser, asgi_live_server
):
    from cases.models import Case

    embolus = Case.objects.get(title__startswith="Pleuritic chest pain")
    for viewport in WIDTHS.values():
        context = _context(browser, asgi_live_server, viewport, "ana")
        page = context.new_page()
        page.set_default_timeout(15000)
        page.goto(f"/cases/{embolus.pk}/")
        # The case page's own shortcut, second after "Skip to content".
        page.keyboard.press("Tab")
        page.keyboard.press("Tab")
        expect(page.locator(":focus")).to_have_text("Jump to discussion")
        page.keyboard.press("Enter")
        heading = page.get_by_role("heading", name="Discussion", exact=True)
        top = heading.evaluate("h => h.getBoundingClientRect().top")
        bar = page.evaluate(
            "document.querySelector('.topbar').getBoundingClientRect().bottom"
        )
        assert top >= bar, (top, bar)

        # Tab down the page, then back up (where a sticky bar hides things).
        # On a phone the case page is in tabs: go down each tab's panel.
        tabs = ["overview", "differential", "discussion", "media"]
        hashes = [f"#tab-{t}" for t in tabs] if viewport == WIDTHS["phone"] else [""]
        problems = []
        seen = 0
        for hash in hashes:
            page.goto("about:blank")
            page.goto(f"/cases/{embolus.pk}/{hash}")
            for key in ["Tab"] * 60 + ["Shift+Tab"] * 40:
                page.keyboard.press(key)
                f = page.evaluate(FOCUS_JS)
                if f["exempt"]:
                    continue
                seen += 1
                if f["style"] == "none" or f["width"] < 2 or f["ratio"] < 3:
                    problems.append(
                        f"{f['what']}: ring {f['style']} {f['width']}px"
                        f" {f['ratio']:.1f}:1"
                    )
                if f["top"] < f["bar"] - 0.5:
                    problems.append(
                        f"{f['what']}: top {f['top']:.0f} under the bar"
                        f" ({f['bar']:.0f})"
                    )
        assert seen >= 60
        assert not problems, f"{viewport['width']} px: {problems}"
        context.close()
