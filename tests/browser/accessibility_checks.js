/* What axe-core does not check, run in the page by tests/browser/test_accessibility.py: it returns
   the problems found, by check. Focus is moved from control to control (and back to none), so the
   test presses a key first: Chromium then shows the ring as it does for keyboard users. */
() => {
  // Colours as WCAG measures them. `behind(el)` is the colour under an element: its ancestors'
  // backgrounds, the translucent ones laid over the first opaque one.
  const parse = (text) => {
    const m = text.match(/rgba?\(([^)]+)\)/);
    if (!m) return null;
    const p = m[1].split(/[ ,/]+/).filter(Boolean).map(Number);
    return { r: p[0], g: p[1], b: p[2], a: p.length > 3 ? p[3] : 1 };
  };
  const over = (top, bottom) => ({
    r: top.r * top.a + bottom.r * (1 - top.a),
    g: top.g * top.a + bottom.g * (1 - top.a),
    b: top.b * top.a + bottom.b * (1 - top.a),
    a: 1,
  });
  const luminance = (c) => {
    const [r, g, b] = [c.r, c.g, c.b].map((v) => {
      v /= 255;
      return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4;
    });
    return 0.2126 * r + 0.7152 * g + 0.0722 * b;
  };
  const contrast = (a, b) => {
    const [x, y] = [luminance(a), luminance(b)].sort((p, q) => q - p);
    return (x + 0.05) / (y + 0.05);
  };
  const behind = (el) => {
    const layers = [];
    for (let node = el.parentElement; node; node = node.parentElement) {
      const c = parse(getComputedStyle(node).backgroundColor);
      if (c && c.a > 0) {
        layers.push(c);
        if (c.a === 1) break;
      }
    }
    return layers.reverse().reduce((acc, c) => over(c, acc), { r: 255, g: 255, b: 255, a: 1 });
  };
  const visible = (el) => el.getClientRects().length > 0;
  const classes = (el) =>
    typeof el.className === "string" && el.className.trim() ? "." + el.className.trim().split(/\s+/).join(".") : "";
  const describe = (el) =>
    el.tagName.toLowerCase() + (el.id ? "#" + el.id : "") + (el.name ? `[name=${el.name}]` : "");
  const idrefs = (el, attr) => (el.getAttribute(attr) || "").split(/\s+/).filter(Boolean);

  // Every message of an error list is announced with its field: the field is aria-invalid and its
  // aria-describedby names the list. A field's errors are in its .field (or table cell); a list
  // outside one is about a whole section and needs an id for the error summary to link to.
  const wiring = [];
  for (const list of document.querySelectorAll(".errorlist")) {
    if (!list.querySelector("li") || !visible(list)) continue;
    const container = list.closest(".field, td");
    const controls = container
      ? Array.from(container.querySelectorAll("input, select, textarea")).filter((el) => el.type !== "hidden")
      : [];
    const text = list.innerText.trim().slice(0, 40);
    if (!controls.length && !list.id) wiring.push(`an error list with neither a field nor an id: "${text}"`);
    for (const control of controls) {
      if (control.getAttribute("aria-invalid") !== "true") {
        wiring.push(`${describe(control)} shows "${text}" but is not aria-invalid`);
      }
      if (!list.id || !idrefs(control, "aria-describedby").includes(list.id)) {
        wiring.push(`${describe(control)}: its aria-describedby does not name its error "${text}"`);
      }
    }
  }
  // Every field marked invalid says why.
  for (const control of document.querySelectorAll('[aria-invalid="true"]')) {
    const said = idrefs(control, "aria-describedby")
      .map((id) => document.getElementById(id))
      .filter((el) => el && el.textContent.trim());
    if (!said.length) wiring.push(`${describe(control)} is aria-invalid without a message that describes it`);
  }
  // Every id is unique (WCAG 2.1's 4.1.1, which axe no longer checks), and every id that ARIA, a label
  // or an in-page link names exists.
  const ids = new Map();
  for (const el of document.querySelectorAll("[id]")) ids.set(el.id, (ids.get(el.id) || 0) + 1);
  for (const [id, n] of ids) if (n > 1) wiring.push(`${n} elements have the id "${id}"`);
  for (const attr of ["aria-describedby", "aria-labelledby", "aria-controls", "for"]) {
    for (const el of document.querySelectorAll(`[${attr}]`)) {
      for (const id of idrefs(el, attr)) {
        if (!ids.has(id)) wiring.push(`${describe(el)} ${attr} names #${id}, which does not exist`);
      }
    }
  }
  for (const link of document.querySelectorAll('a[href^="#"]')) {
    const id = decodeURIComponent(link.getAttribute("href").slice(1));
    if (id && !document.getElementById(id)) {
      wiring.push(`the link "${link.innerText.trim()}" points at #${id}, which does not exist`);
    }
  }
  // A list keeps its list role (a live region goes on a wrapper).
  for (const list of document.querySelectorAll("ul[role], ol[role]")) {
    const role = list.getAttribute("role");
    if (!["list", "none", "presentation", "tablist", "listbox", "menu"].includes(role)) {
      wiring.push(`a list with role="${role}" loses its list semantics: ${describe(list)}${classes(list)}`);
    }
  }

  // WCAG 1.4.11: the border that shows where a text box is has 3:1 against what is around it.
  const borders = new Set();
  const boxes =
    "input:not([type]), input[type=text], input[type=password], input[type=email], input[type=date], " +
    "input[type=number], input[type=tel], input[type=search], input[type=url], select, textarea";
  for (const el of document.querySelectorAll(boxes)) {
    if (!visible(el) || el.disabled) continue;
    const style = getComputedStyle(el);
    if (!parseFloat(style.borderTopWidth)) continue;
    const back = behind(el);
    const ratio = contrast(over(parse(style.borderTopColor), back), back);
    if (ratio < 3) {
      borders.add(`${el.tagName.toLowerCase()}${classes(el)}: border ${style.borderTopColor} (${ratio.toFixed(2)}:1)`);
    }
  }

  // The focus ring of every kind of control: solid, at least 2 px, and at least 3:1 against what is
  // behind it (an outline, or a box-shadow ring of 2 px or more). One line per kind of control.
  const focusRing = [];
  const seen = new Set();
  const focusable =
    'a[href], button, input:not([type=hidden]), select, textarea, [tabindex]:not([tabindex="-1"]), summary';
  for (const el of document.querySelectorAll(focusable)) {
    if (!visible(el) || el.disabled || getComputedStyle(el).visibility === "hidden") continue;
    const kind =
      (el.closest(".topbar") ? "topbar " : "") + el.tagName.toLowerCase() + (el.type ? `[type=${el.type}]` : "") +
      classes(el);
    if (seen.has(kind)) continue;
    seen.add(kind);
    el.focus({ preventScroll: true });
    if (document.activeElement !== el) continue;
    const style = getComputedStyle(el);
    const back = behind(el);
    const rings = [];
    if (style.outlineStyle === "solid" && parseFloat(style.outlineWidth) >= 2) rings.push(parse(style.outlineColor));
    for (const shadow of style.boxShadow.split(/,(?![^(]*\))/)) {
      const sizes = shadow.replace(/rgba?\([^)]*\)/, "").trim().split(/\s+/).map(parseFloat);
      if (!shadow.includes("inset") && sizes.length >= 4 && sizes[3] >= 2) rings.push(parse(shadow));
    }
    const best = Math.max(0, ...rings.filter(Boolean).map((c) => contrast(over(c, back), back)));
    if (best < 3) {
      const ring = `${style.outlineStyle} ${style.outlineWidth} ${style.outlineColor}`;
      focusRing.push(`${kind}: focus ring ${ring} (${best.toFixed(2)}:1)`);
    }
    el.blur();
  }

  return { wiring, "input-border": Array.from(borders), "focus-ring": focusRing };
}
