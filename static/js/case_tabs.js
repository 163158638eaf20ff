// Case page on phones: Overview, Differential, Discussion and Media as tabs
// (the WAI-ARIA tabs pattern: roving tabindex, arrow keys, Home and End).
// The selected tab lives in the address (#tab-discussion), so reload and Back
// keep it. Wider screens, and phones without JavaScript, show every pane.
(function () {
  "use strict";

  const root = document.querySelector("[data-case-layout]");
  const tablist = root && root.querySelector("[data-case-tabs]");
  if (!tablist) return;
  const tabs = Array.from(tablist.querySelectorAll("[role=tab]"));
  const panes = tabs.map(function (tab) { return document.getElementById(tab.getAttribute("aria-controls")); });
  const names = tabs.map(function (tab) { return tab.dataset.caseTab; });
  const phone = window.matchMedia("(max-width: 767.98px)");
  const unseen = tablist.querySelector("[data-case-tab-new]");
  let current = names[0];
  let missed = 0;

  function tabbed() { return !tablist.hidden; }

  // The pane holding the element an address or a link points at, if any.
  function paneFor(hash) {
    const id = decodeURIComponent((hash || "").replace(/^#/, ""));
    if (!id) return null;
    if (id.indexOf("tab-") === 0 && names.indexOf(id.slice(4)) !== -1) return id.slice(4);
    // annotations.js opens "#annotation-N" on the media it annotates.
    if (id.indexOf("annotation-") === 0) return "media";
    const target = document.getElementById(id);
    const pane = target && target.closest("[data-case-pane]");
    return pane ? pane.dataset.casePane : null;
  }

  function show(name) {
    current = name;
    tabs.forEach(function (tab, i) {
      const on = names[i] === name;
      tab.setAttribute("aria-selected", on ? "true" : "false");
      tab.tabIndex = on ? 0 : -1;
      panes[i].hidden = !on;
    });
    if (name === "discussion") {
      missed = 0;
      if (unseen) { unseen.hidden = true; unseen.textContent = ""; }
      // A pane that was display:none lost its scroll position: show the latest.
      const log = panes[names.indexOf("discussion")].querySelector("[data-log]");
      if (log) log.scrollTop = log.scrollHeight;
    }
  }

  // After a switch, bring the pane's start up under the (sticky) tabs when the
  // page is scrolled past it; the discussion always, as it is sized to fill
  // the screen below the tabs, composer included.
  function reveal(name) {
    const pane = panes[names.indexOf(name)];
    const under = parseFloat(getComputedStyle(tablist).top) || 0;
    const target = pane.getBoundingClientRect().top + window.scrollY - tablist.offsetHeight - under;
    if (target < window.scrollY || name === "discussion") window.scrollTo(0, Math.max(0, target));
  }

  function select(name, opts) {
    if (!tabbed() || names.indexOf(name) === -1) return;
    show(name);
    if (!opts) return;
    if (opts.remember) history.replaceState(history.state, "", "#tab-" + name);
    if (opts.focus) tabs[names.indexOf(name)].focus({ preventScroll: true });
    reveal(name);
  }

  function enter() {
    tablist.hidden = false;
    panes.forEach(function (pane, i) {
      pane.setAttribute("role", "tabpanel");
      pane.setAttribute("aria-labelledby", tabs[i].id);
    });
    show(paneFor(location.hash) || current);
  }

  function leave() {
    tablist.hidden = true;
    panes.forEach(function (pane) {
      pane.hidden = false;
      pane.removeAttribute("role");
      pane.removeAttribute("aria-labelledby");
    });
  }

  function fit() { if (phone.matches) enter(); else leave(); }

  tablist.addEventListener("click", function (ev) {
    const tab = ev.target.closest("[role=tab]");
    if (tab) select(tab.dataset.caseTab, { remember: true });
  });

  tablist.addEventListener("keydown", function (ev) {
    const i = tabs.indexOf(document.activeElement);
    if (i === -1) return;
    const last = tabs.length - 1;
    const to = { ArrowRight: i === last ? 0 : i + 1, ArrowLeft: i === 0 ? last : i - 1, Home: 0, End: last }[ev.key];
    if (to === undefined) return;
    ev.preventDefault();
    select(names[to], { remember: true, focus: true });
  });

  // A link to something in a hidden pane (the skip link, an anchor chip, a
  // "#m42" permalink) opens that pane first, so the browser can scroll to it.
  // Capture phase: before annotations.js scrolls to the media it points at.
  window.addEventListener("click", function (ev) {
    if (!tabbed() || ev.defaultPrevented || ev.button) return;
    const a = ev.target.closest && ev.target.closest("a[href*='#']");
    if (!a || a.pathname !== location.pathname) return;
    const name = paneFor(a.hash);
    if (name && name !== current) show(name);
  }, true);

  window.addEventListener("hashchange", function () {
    const name = paneFor(location.hash);
    if (name && name !== current) select(name);
  });

  // "Discuss this" on a photo or video hands its anchor to the composer.
  window.addEventListener("consilium:annotate", function () { select("discussion"); }, true);

  // New messages while another tab is open: count them on the Discussion tab.
  document.addEventListener("consilium:case-frame", function (ev) {
    const f = ev.detail || {};
    if (!tabbed() || current === "discussion" || f.type !== "message.new" || !unseen) return;
    missed += 1;
    const words = document.createElement("span");
    words.className = "visually-hidden";
    words.textContent = " new";
    unseen.replaceChildren(String(missed), words);
    unseen.hidden = false;
  });

  phone.addEventListener("change", fit);
  fit();
})();
