// @mention autocomplete for a textarea with data-mentions-url (the discussion
// composer). Typing "@" and a letter or more offers the people the server says
// can be mentioned in the case (ARIA combobox with a listbox popup); arrows
// move, Enter or Tab inserts "@username ", Escape closes. While the list is
// open, Enter picks a person and never reaches the composer's send handler.
(function () {
  "use strict";

  const DEBOUNCE_MS = 150;
  // The fragment being typed: "@" not preceded by a name character (the
  // server's rule in realtime/rendering.py), up to the caret.
  const FRAGMENT = /(?:^|[^\p{L}\p{N}_@.+-])@([\p{L}\p{N}_.+-]{1,40})$/u;
  const MIRRORED = [
    "boxSizing", "width", "paddingTop", "paddingRight", "paddingBottom", "paddingLeft",
    "borderTopWidth", "borderRightWidth", "borderBottomWidth", "borderLeftWidth",
    "fontFamily", "fontSize", "fontWeight", "fontStyle", "letterSpacing", "lineHeight",
    "textTransform", "wordSpacing", "textIndent", "tabSize",
  ];

  function el(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text) node.textContent = text;
    return node;
  }

  // Where the caret is, in px from the textarea's top-left (its scroll included).
  function caretOffset(area, pos) {
    const mirror = el("div");
    const style = getComputedStyle(area);
    MIRRORED.forEach(function (prop) { mirror.style[prop] = style[prop]; });
    mirror.style.position = "absolute";
    mirror.style.visibility = "hidden";
    mirror.style.whiteSpace = "pre-wrap";
    mirror.style.overflowWrap = "break-word";
    mirror.textContent = area.value.slice(0, pos);
    const marker = el("span", null, "\u200b");
    mirror.appendChild(marker);
    document.body.appendChild(mirror);
    const at = { left: marker.offsetLeft, top: marker.offsetTop, height: marker.offsetHeight };
    mirror.remove();
    return at;
  }

  function attach(area) {
    const form = area.form || area.parentElement;
    const url = area.dataset.mentionsUrl;
    const list = el("ul", "mentions");
    list.id = area.id + "-mentions";
    list.setAttribute("role", "listbox");
    list.setAttribute("aria-label", "People to mention");
    list.hidden = true;
    area.insertAdjacentElement("afterend", list);
    form.classList.add("mentions-host");
    area.setAttribute("role", "combobox");
    area.setAttribute("aria-autocomplete", "list");
    area.setAttribute("aria-haspopup", "listbox");
    area.setAttribute("aria-controls", list.id);
    area.setAttribute("aria-expanded", "false");
    const announcer = area.closest("[data-discussion]");
    const live = announcer && announcer.querySelector("[data-announcer]");

    const state = { people: [], active: -1, start: -1, query: "", seq: 0, timer: 0, controller: null };

    function isOpen() { return area.getAttribute("aria-expanded") === "true"; }

    function close() {
      window.clearTimeout(state.timer);
      if (state.controller) state.controller.abort();
      state.controller = null;
      state.seq += 1; // whatever is still on its way is now stale
      state.people = [];
      state.active = -1;
      state.query = "";
      list.hidden = true;
      list.textContent = "";
      area.setAttribute("aria-expanded", "false");
      area.removeAttribute("aria-activedescendant");
    }

    function setActive(i) {
      state.active = i;
      Array.prototype.forEach.call(list.children, function (opt, n) {
        opt.setAttribute("aria-selected", n === i ? "true" : "false");
      });
      const opt = list.children[i];
      if (opt) {
        area.setAttribute("aria-activedescendant", opt.id);
        opt.scrollIntoView({ block: "nearest" });
      } else {
        area.removeAttribute("aria-activedescendant");
      }
    }

    function place() {
      // Under the line being typed, lined up with its "@".
      const caret = caretOffset(area, Math.max(state.start, 0));
      const below = Math.min(caret.top - area.scrollTop + caret.height, area.clientHeight);
      list.style.top = area.offsetTop + area.clientTop + Math.max(below, 0) + 4 + "px";
      const room = Math.max(area.clientWidth - list.offsetWidth, 0);
      list.style.left = area.offsetLeft + Math.min(Math.max(caret.left, 0), room) + "px";
    }

    function show(people) {
      list.textContent = "";
      state.people = people;
      if (!people.length) { close(); return; }
      people.forEach(function (p, i) {
        const opt = el("li", "mentions__option");
        opt.id = list.id + "-" + i;
        opt.setAttribute("role", "option");
        opt.setAttribute("aria-selected", "false");
        opt.dataset.username = p.username;
        const avatar = el("span", "mentions__avatar", p.avatar_initials || "?");
        avatar.setAttribute("aria-hidden", "true");
        opt.appendChild(avatar);
        const text = el("span", "mentions__text");
        text.appendChild(el("span", "mentions__name", p.name));
        text.appendChild(el("span", "mentions__meta", "@" + p.username + (p.specialty ? " · " + p.specialty : "")));
        opt.appendChild(text);
        list.appendChild(opt);
      });
      list.hidden = false;
      area.setAttribute("aria-expanded", "true");
      setActive(-1);
      place();
      if (live) {
        live.textContent = people.length === 1 ? "1 person to mention" : people.length + " people to mention";
      }
    }

    function lookup(query) {
      const seq = ++state.seq;
      if (state.controller) state.controller.abort();
      state.controller = window.AbortController ? new AbortController() : null;
      fetch(url + "?q=" + encodeURIComponent(query), {
        credentials: "same-origin",
        headers: { Accept: "application/json" },
        signal: state.controller ? state.controller.signal : undefined,
      })
        .then(function (r) { return r.ok ? r.json() : []; })
        .then(function (people) {
          // Only the answer to the latest question, while it is still asked.
          if (seq !== state.seq || state.query !== query) return;
          show(Array.isArray(people) ? people : []);
        })
        .catch(function () { /* aborted or offline: the list just stays shut */ });
    }

    function update() {
      const caret = area.selectionStart;
      const match = area.selectionEnd === caret && FRAGMENT.exec(area.value.slice(0, caret));
      if (!match) { if (isOpen() || state.query) close(); return; }
      const query = match[1];
      state.start = caret - query.length - 1;
      if (query === state.query) return;
      state.query = query;
      window.clearTimeout(state.timer);
      state.timer = window.setTimeout(function () { lookup(query); }, DEBOUNCE_MS);
    }

    function pick(i) {
      const person = state.people[i];
      if (!person) return;
      const end = area.selectionStart;
      const text = "@" + person.username + " ";
      area.setRangeText(text, state.start, end, "end");
      close();
      area.focus();
      area.dispatchEvent(new Event("input", { bubbles: true }));
    }

    area.addEventListener("input", update);
    area.addEventListener("click", update);
    area.addEventListener("blur", close);
    // On the form, in the capture phase: runs before the textarea's own
    // Enter-to-send listener and keeps the key from it while a choice is open.
    form.addEventListener("keydown", function (ev) {
      if (ev.target !== area || !isOpen() || ev.isComposing) return;
      const n = state.people.length;
      if (ev.key === "ArrowDown" || ev.key === "ArrowUp") {
        const step = ev.key === "ArrowDown" ? 1 : -1;
        setActive(state.active < 0 && step < 0 ? n - 1 : (state.active + step + n) % n);
      } else if ((ev.key === "Enter" || ev.key === "Tab") && !ev.shiftKey && !ev.altKey && !ev.ctrlKey && !ev.metaKey) {
        pick(state.active < 0 ? 0 : state.active);
      } else if (ev.key === "Escape") {
        close();
      } else {
        return;
      }
      ev.preventDefault();
      ev.stopPropagation();
    }, true);
    area.addEventListener("keyup", function (ev) {
      if (ev.key === "ArrowLeft" || ev.key === "ArrowRight" || ev.key === "Home" || ev.key === "End") update();
    });
    // Keep focus in the textarea when the list is clicked.
    list.addEventListener("mousedown", function (ev) { ev.preventDefault(); });
    list.addEventListener("click", function (ev) {
      const opt = ev.target.closest("[role=option]");
      if (opt) pick(Array.prototype.indexOf.call(list.children, opt));
    });
  }

  document.querySelectorAll("textarea[data-mentions-url]").forEach(attach);
})();
