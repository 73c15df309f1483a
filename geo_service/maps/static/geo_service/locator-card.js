/* The locator's centre card: name and level, the walk, address and phone (when the data
 * has them), open now and today's hours, the week's hours, services — in the page's
 * language (Chinese punctuation in Chinese, ASCII in English). Whether it is open for
 * the resident on the way is locator-opening.js's; locator.js adds the route button and
 * the map-app links. Times are the district's local time, as the API gives them
 * (GET locator/nearest: closes_at, opens_at, week). */
(function () {
  "use strict";
  var GS = window.GeoService;
  var opening = GS.locatorOpening;
  var WEEKDAYS = {
    zh: ["周日", "周一", "周二", "周三", "周四", "周五", "周六"],
    en: ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"],
  };
  var MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

  function escapeHtml(text) {
    return String(text).replace(/[&<>"']/g, function (c) {
      return { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c];
    });
  }

  /* "地址：" / "Address: " — a label and the colon of the page's language. */
  function label(ctx, key) {
    return ctx.t(key) + (ctx.lang === "zh" ? "：" : ": ");
  }

  function serviceNames(codes, ctx) {
    return codes
      .map(function (code) {
        return ctx.services[code] ? ctx.services[code][ctx.lang] : code;
      })
      .join(ctx.lang === "en" ? ", " : "、");
  }

  /* One day's open intervals ("08:30–12:00、13:30–17:30"), or "closed". */
  function dayHours(intervals, ctx) {
    if (!intervals.length) {
      return ctx.t("dayClosed");
    }
    return intervals
      .map(function (interval) {
        return interval[0] + "–" + interval[1];
      })
      .join(ctx.lang === "zh" ? "、" : ", ");
  }

  /* "周三 9月30日" / "Wed 30 Sep" for "2026-09-30". */
  function dayName(isoDate, ctx) {
    var day = new Date(isoDate + "T12:00:00Z");
    var weekday = WEEKDAYS[ctx.lang][day.getUTCDay()];
    var month = day.getUTCMonth();
    return ctx.lang === "zh"
      ? weekday + " " + (month + 1) + "月" + day.getUTCDate() + "日"
      : weekday + " " + day.getUTCDate() + " " + MONTHS[month];
  }

  /* The week from the answer's day: a compact table in a <details>, today's row marked
     (in words and with aria-current, not by colour alone), the rule as written below. */
  function weekHtml(p, ctx) {
    var today = ctx.at ? ctx.at.slice(0, 10) : p.week[0].date;
    var rows = p.week
      .map(function (day) {
        var isToday = day.date === today;
        return (
          "<tr" + (isToday ? ' class="today" aria-current="date"' : "") +
          ' data-date="' + day.date + '"><th scope="row">' +
          escapeHtml(dayName(day.date, ctx)) +
          (isToday ? ' <span class="tag">' + escapeHtml(ctx.t("today")) + "</span>" : "") +
          '</th><td class="hours">' + escapeHtml(dayHours(day.intervals, ctx)) + "</td></tr>"
        );
      })
      .join("");
    return (
      '<details class="week"' + (ctx.weekOpen ? " open" : "") + ">" +
      "<summary>" + escapeHtml(ctx.t("week")) + "</summary>" +
      "<table><tbody>" + rows + "</tbody></table>" +
      '<p class="rule">' + escapeHtml(label(ctx, "hours")) +
      escapeHtml(GS.formatHours(p.opening_hours, ctx.lang)) + "</p></details>"
    );
  }

  /* Today's hours beside "open until / opens at"; without a week, the rule as written. */
  function hoursHtml(p, ctx) {
    var status = '<span class="open ' + opening.kind(p) + '">' +
      escapeHtml(opening.text(p, ctx)) + "</span> ";
    if (!p.week) {
      return "<p>" + status + escapeHtml(label(ctx, "hours")) +
        escapeHtml(GS.formatHours(p.opening_hours, ctx.lang)) + "</p>";
    }
    return '<p class="today-hours">' + status + '<span class="hours-today">' +
      escapeHtml(label(ctx, "todayHours")) + escapeHtml(dayHours(p.week[0].intervals, ctx)) +
      "</span></p>" + weekHtml(p, ctx);
  }

  /* The card's text: ``ctx`` holds lang, t (the page's words), at (the answer's local
     time), services (their labels), name and level (in the page's language) and weekOpen
     (whether the week was left open). */
  function html(feature, number, ctx) {
    var p = feature.properties;
    var parts = [
      "<h3>" + number + ". " + escapeHtml(ctx.name) + ' <span class="level">' +
        escapeHtml(ctx.level) + "</span></h3>",
      '<p class="walk">' +
        escapeHtml(ctx.t("walk", { m: Math.round(p.distance_m), min: Math.round(p.minutes) })) +
        "</p>",
    ];
    if (p.address) {
      parts.push('<p class="address">' + escapeHtml(label(ctx, "address") + p.address) + "</p>");
    }
    if (p.phone) {
      parts.push(
        '<p class="contact"><a class="tel" href="tel:' +
          escapeHtml(p.phone.replace(/[^\d+]/g, "")) + '">' +
          escapeHtml(label(ctx, "phone") + p.phone) + "</a></p>"
      );
    }
    parts.push(hoursHtml(p, ctx));
    parts.push("<p>" + escapeHtml(label(ctx, "services") + serviceNames(p.services, ctx)) + "</p>");
    return parts.join("");
  }

  GS.locatorCard = { html: html, escapeHtml: escapeHtml };
})();
