/* Whether a centre is open for the resident who sets out now, in the page's words: open
 * (until when), closed by the time the walk ends, closing soon after they arrive, or when
 * it opens. Read from the API's answer (GET locator/nearest: open_now, open_on_arrival,
 * closes_at, opens_at, closes_soon), all in the district's local time. */
(function () {
  "use strict";
  var GS = window.GeoService;

  /* "08:30", or "tomorrow 08:30" / a date, for a local time after the answer's own. */
  function dayAndTime(moment, ctx) {
    var day = "";
    var asked = ctx.at ? ctx.at.slice(0, 10) : moment.slice(0, 10);
    if (moment.slice(0, 10) !== asked) {
      var next = new Date(asked + "T12:00:00Z");
      next.setUTCDate(next.getUTCDate() + 1);
      day = next.toISOString().slice(0, 10) === moment.slice(0, 10)
        ? ctx.t("tomorrow")
        : moment.slice(5, 10) + " ";
    }
    return { day: day, time: moment.slice(11, 16) };
  }

  /* The state, also the class the card shows it with ("soon": CLOSES_SOON in
     analysis/opening.py, 15 minutes):
     "yes"  open now and when they arrive, not closing soon after;
     "soon" open when they arrive, but closing within 15 minutes after (hurry);
     "late" open now, but closed by the time they arrive (no use hurrying);
     "no"   closed now (or hours unknown). */
  function kind(p) {
    if (p.open_now !== true) {
      return "no";
    }
    if (p.open_on_arrival === false) {
      return "late";
    }
    return p.closes_soon ? "soon" : "yes";
  }

  function text(p, ctx) {
    switch (kind(p)) {
      case "late":
        return ctx.t("closedOnArrival", dayAndTime(p.closes_at, ctx));
      case "soon":
        return ctx.t("closesSoon", dayAndTime(p.closes_at, ctx));
      case "yes":
        return p.closes_at ? ctx.t("openUntil", dayAndTime(p.closes_at, ctx)) : ctx.t("open");
      default:
        if (p.open_now === false) {
          return p.opens_at ? ctx.t("opensAt", dayAndTime(p.opens_at, ctx)) : ctx.t("closed");
        }
        return ctx.t("unknown");
    }
  }

  GS.locatorOpening = { kind: kind, text: text, dayAndTime: dayAndTime };
})();
