/* geo_service map pages, shared core: the GeoService namespace, text helpers, the
 * loading status, datums (WGS 84 → GCJ-02 for Amap tiles), opening hours for people and
 * GeoJSON fetching with paging. Loaded before layers.js and controls.js. */
(function (global) {
  "use strict";
  var GS = (global.GeoService = global.GeoService || {});
  var pending = 0;
  /* Every catalog layer of the page (for the legend, and for tests). */
  GS.layers = [];

  function escapeHtml(text) {
    return String(text).replace(/[&<>"']/g, function (c) {
      return { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c];
    });
  }
  GS.escapeHtml = escapeHtml;

  function both(text) {
    return text.zh === text.en ? text.zh : text.zh + " / " + text.en;
  }
  GS.both = both;

  function setStatus(text) {
    var status = document.getElementById("gs-status");
    if (status) {
      status.textContent = text;
    }
  }

  /* Loading state, for people (a live region) and for tests (data-gs-pending). */
  function setPending(change) {
    var before = pending;
    pending += change;
    document.body.setAttribute("data-gs-pending", String(pending));
    if (pending) {
      setStatus("正在加载图层… / Loading layers…");
    } else if (before) {
      setStatus("");
    }
  }

  /* Datum of the map's tiles: our data is WGS 84; Amap tiles need GCJ-02. */
  GS.datum = "wgs84";
  var A = 6378245.0;
  var EE = 0.00669342162296594323;
  function shiftLat(x, y) {
    var r = -100 + 2 * x + 3 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * Math.sqrt(Math.abs(x));
    r += ((20 * Math.sin(6 * x * Math.PI) + 20 * Math.sin(2 * x * Math.PI)) * 2) / 3;
    r += ((20 * Math.sin(y * Math.PI) + 40 * Math.sin((y / 3) * Math.PI)) * 2) / 3;
    r += ((160 * Math.sin((y / 12) * Math.PI) + 320 * Math.sin((y * Math.PI) / 30)) * 2) / 3;
    return r;
  }
  function shiftLon(x, y) {
    var r = 300 + x + 2 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * Math.sqrt(Math.abs(x));
    r += ((20 * Math.sin(6 * x * Math.PI) + 20 * Math.sin(2 * x * Math.PI)) * 2) / 3;
    r += ((20 * Math.sin(x * Math.PI) + 40 * Math.sin((x / 3) * Math.PI)) * 2) / 3;
    r += ((150 * Math.sin((x / 12) * Math.PI) + 300 * Math.sin((x / 30) * Math.PI)) * 2) / 3;
    return r;
  }
  /* WGS 84 lon/lat → GCJ-02 lon/lat (the formula of geo_service/datums.py; Amap basemaps
     are refused outside China, so the "outside China" rectangle is not needed here). */
  GS.wgs84ToGcj02 = function (lon, lat) {
    var dLat = shiftLat(lon - 105.0, lat - 35.0);
    var dLon = shiftLon(lon - 105.0, lat - 35.0);
    var radLat = (lat / 180.0) * Math.PI;
    var magic = 1 - EE * Math.sin(radLat) * Math.sin(radLat);
    var sqrtMagic = Math.sqrt(magic);
    dLat = (dLat * 180.0) / (((A * (1 - EE)) / (magic * sqrtMagic)) * Math.PI);
    dLon = (dLon * 180.0) / ((A / sqrtMagic) * Math.cos(radLat) * Math.PI);
    return [lon + dLon, lat + dLat];
  };
  /* Where a WGS 84 position is drawn on this map. */
  GS.toMap = function (lon, lat) {
    if (GS.datum === "gcj02") {
      var shifted = GS.wgs84ToGcj02(lon, lat);
      return L.latLng(shifted[1], shifted[0]);
    }
    return L.latLng(lat, lon);
  };

  var DAYS = {
    zh: { Mo: "周一", Tu: "周二", We: "周三", Th: "周四", Fr: "周五", Sa: "周六", Su: "周日",
      PH: "节假日", off: "休息" },
    en: { Mo: "Mon", Tu: "Tue", We: "Wed", Th: "Thu", Fr: "Fri", Sa: "Sat", Su: "Sun",
      PH: "public holidays", off: "closed" },
  };
  /* OpenStreetMap opening_hours ("Mo-Fr 08:30-17:30; Sa 09:00-12:00") for people. */
  GS.formatHours = function (text, lang) {
    var days = DAYS[lang];
    if (!text) {
      return lang === "zh" ? "未提供" : "not given"; /* OSM has no opening_hours for it */
    }
    return text
      .split(/\s*;\s*/)
      .map(function (rule) {
        return rule
          .replace(/\b(Mo|Tu|We|Th|Fr|Sa|Su|PH|off)\b/g, function (day) {
            return days[day];
          })
          .replace(/([一二三四五六日]|[a-z])-(周|[A-Z])/g, lang === "zh" ? "$1至$2" : "$1–$2")
          .replace(/(\d\d:\d\d)-(\d\d:\d\d)/g, "$1–$2")
          .replace(/\s*,\s*/g, lang === "zh" ? "、" : ", "); /* 周六、周日; Sat, Sun */
      })
      .join(lang === "zh" ? "；" : "; ");
  };
  /* Every feature behind ``url``, following "next" links. */
  function fetchAll(url, features) {
    return fetch(url, { headers: { Accept: "application/geo+json" } })
      .then(function (response) {
        if (!response.ok) {
          throw new Error(url + ": HTTP " + response.status);
        }
        return response.json();
      })
      .then(function (page) {
        features = features.concat(page.features);
        var next = (page.links || []).filter(function (link) {
          return link.rel === "next";
        })[0];
        return next ? fetchAll(next.href, features) : features;
      });
  }

  GS.fetchAll = function (url) {
    return fetchAll(url, []);
  };

  GS.setStatus = setStatus;
  GS.setPending = setPending;
})(window);
