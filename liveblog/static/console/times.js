/* Times in the blog's zone, as the reader page names them. */

import {h} from "./dom.js";

// -- times in the blog's zone ------------------------------------------------------------------
// Editors enter and read times on the blog's clock (a London editor on a New York blog types
// New York time), never the browser's. A wall time the zone skips (clocks jump forward) is
// refused; one it shows twice (clocks go back) is asked about; an unchanged field keeps the
// exact instant it showed.

function wallParts(t, zone) {
  var parts = {};
  new Intl.DateTimeFormat("en-US", {timeZone: zone, hourCycle: "h23", year: "numeric",
    month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit", second: "2-digit"})
    .formatToParts(new Date(t)).forEach(function (p) { parts[p.type] = p.value; });
  return parts;
}

export function wallOf(iso, zone) {  // "YYYY-MM-DDTHH:MM" on the zone's clock
  if (!iso) return "";
  var p = wallParts(Date.parse(iso), zone);
  return p.year + "-" + p.month + "-" + p.day + "T" + p.hour + ":" + p.minute;
}

function offsetAt(t, zone) {
  var p = wallParts(t, zone);
  return Date.UTC(+p.year, +p.month - 1, +p.day, +p.hour, +p.minute, +p.second) - Math.floor(t / 1000) * 1000;
}

// every instant the zone's clock shows as ``wall``: none (skipped), one, or two (repeated)
export function instantsOf(wall, zone) {
  var asUtc = Date.parse(wall + ":00Z"), found = [];
  if (isNaN(asUtc)) return found;
  [-86400000, 0, 86400000].forEach(function (shift) {
    var t = asUtc - offsetAt(asUtc + shift, zone);
    if (wallOf(new Date(t).toISOString(), zone) === wall && found.indexOf(t) < 0) found.push(t);
  });
  return found.sort().map(function (t) { return new Date(t).toISOString(); });
}

// How the blog's pages name its zone at each moment ("CET", "ET"), fetched once per zone
// from the server, so the console and the reader page never name one time differently.
var zoneLabels = {};
export function loadZone(zone) {
  if (!zone || zoneLabels[zone]) return Promise.resolve();
  return fetch("/console/zones/" + zone).then(function (r) { return r.ok ? r.json() : null; })
    .then(function (data) { if (data) zoneLabels[zone] = data.labels; })
    .catch(function () { /* Intl's own name then */ });
}
export function labelAt(zone, iso) {
  var steps = zoneLabels[zone], t = Date.parse(iso), found = null;
  if (!steps) return null;
  for (var lo = 0, hi = steps.length - 1; lo <= hi;) {
    var mid = (lo + hi) >> 1;
    if (steps[mid][0] <= t) { found = steps[mid][1]; lo = mid + 1; } else hi = mid - 1;
  }
  return found;
}

export function zoneAbbreviation(iso, zone) {
  var label = labelAt(zone, iso);
  if (label) return label;
  var name = "";
  new Intl.DateTimeFormat("en-US", {timeZone: zone, timeZoneName: "short"})
    .formatToParts(new Date(iso)).forEach(function (p) { if (p.type === "timeZoneName") name = p.value; });
  return name;
}

// A datetime-local input on the blog's clock. resolve() gives {iso} or {error}; a repeated
// hour shows two choices beside the field and needs one picked.
export function zonedTime(input, zone, original, choices) {
  var originalWall = original ? wallOf(original, zone) : "";
  input.value = originalWall;
  var picked = null;
  function offer() {
    choices.textContent = "";
    picked = null;
    var wall = input.value;
    var found = wall && wall !== originalWall ? instantsOf(wall, zone) : [];
    if (found.length !== 2) return;
    choices.append(h("p", {"class": "hint", text: "That time happens twice in " + zone +
      " (the clocks go back): which one?"}));
    found.forEach(function (iso, i) {
      var id = input.id + "-choice-" + i;
      var radio = h("input", {type: "radio", name: input.id + "-choice", id: id, value: iso,
        onchange: function () { picked = iso; }});
      choices.append(h("div", {"class": "inline"}, [radio, h("label", {"for": id,
        text: wall.slice(11) + " " + zoneAbbreviation(iso, zone) + (i ? " (the second time)" : " (the first time)")})]));
    });
  }
  input.addEventListener("change", offer);
  input.addEventListener("input", offer);
  return {
    resolve: function () {
      var wall = input.value;
      if (!wall) return {iso: null};
      if (wall === originalWall) return {iso: original};  // unchanged: the very same instant
      var found = instantsOf(wall, zone);
      if (!found.length) return {error: wall.replace("T", " ") + " does not exist in " + zone +
        " (the clocks jump forward then): choose another time."};
      if (found.length === 1) return {iso: found[0]};
      return picked ? {iso: picked} : {error: "That time happens twice in " + zone +
        ": choose which one below."};
    }
  };
}

// a time on the blog's clock (else this browser's), the zone named
export function when(iso, zone) {
  if (!iso) return "";
  var label = zone ? labelAt(zone, iso) : null;
  var shown = new Date(iso).toLocaleString(undefined, {year: "numeric", month: "short",
    day: "numeric", hour: "numeric", minute: "2-digit", timeZone: zone || undefined,
    timeZoneName: label ? undefined : "short"});
  return label ? shown + " " + label : shown;
}

export function withZone(rs) {
  var blog = rs[0] && rs[0].status === 200 ? rs[0].data : null;
  return loadZone(blog && blog.timezone).then(function () { return rs; });
}
// A time zone as the reader pages name it ("ET", "CET"), not its IANA id ("America/New_York");
// the id where the browser has no shorter name for it.
export function zoneName(zone) {
  if (!zone || zone === "UTC") return "UTC";
  try {
    var part = new Intl.DateTimeFormat("en-US", {timeZone: zone, timeZoneName: "shortGeneric"})
      .formatToParts(new Date()).filter(function (p) { return p.type === "timeZoneName"; })[0];
    if (part && !/^GMT[+-]/.test(part.value)) return part.value;
  } catch (e) { /* an engine without shortGeneric */ }
  return zone.replace(/_/g, " ");
}
