/* The public service-centre locator: choose a place (search, my location, or a tap on the
 * map), list the nearest centres on foot with the map in step, filter by service and
 * "open now", show the route and links to phone map apps. Chinese by default, English on
 * the switch. Calls locator/places and locator/nearest of our API. */
(function () {
  "use strict";
  var config = JSON.parse(document.getElementById("gs-config").textContent);
  var GS = window.GeoService;
  var TEXT = GS.LOCATOR_TEXT;
  var card = GS.locatorCard;
  var escapeHtml = card.escapeHtml;
  var params = new URLSearchParams(location.search);
  var stored = null;
  try {
    stored = window.localStorage.getItem("gs-lang");
  } catch (e) {
    stored = null; /* storage may be off (private mode): the default is fine */
  }
  /* the district's default language first (config.languages), then the visitor's choice */
  var lang = (params.get("lang") || stored || (config.languages || ["zh"])[0]) === "en" ? "en" : "zh";
  var at = params.get("at"); /* check opening hours at this local time instead of now */
  var state = { origin: null, originName: null, results: [], selected: null, error: null };
  var weekOpen = {}; /* centre id -> its week of hours was opened (kept across redraws) */
  var $ = function (id) {
    return document.getElementById(id);
  };

  function t(key, values) {
    if (key === "searchLabel" && config.pinyin === false) {
      key = "searchLabelLocal"; /* no Chinese names to search outside China */
    }
    var text = TEXT[lang][key];
    values = Object.assign({ centre: (config.centreTerm || {})[lang] || "" }, values || {});
    Object.keys(values).forEach(function (name) {
      text = text.replace("{" + name + "}", values[name]);
    });
    return text;
  }

  function applyLanguage() {
    document.documentElement.lang = lang === "en" ? "en" : "zh-CN";
    document.querySelectorAll("[data-i18n]").forEach(function (node) {
      node.textContent = t(node.getAttribute("data-i18n"));
    });
    document.querySelectorAll("[data-i18n-label]").forEach(function (node) {
      node.setAttribute("aria-label", t(node.getAttribute("data-i18n-label")));
    });
    document.querySelectorAll("option[data-en]").forEach(function (node) {
      node.textContent = node.getAttribute("data-" + lang);
    });
    $("places").setAttribute("aria-label", t("places"));
    var other = lang === "en" ? "zh-CN" : "en";
    $("lang-label").textContent = TEXT[lang].switchLabel;
    $("lang-hint").textContent = t("switchTo");
    $("lang-label").setAttribute("lang", other);
    $("lang-hint").setAttribute("lang", other);
    if (state.origin) {
      showOrigin();
      render();
    }
  }

  /* The map: our own public layers as the background (no tiles needed). */
  var map = L.map("map", {
    maxZoom: 18,
    minZoom: 9,
    zoomControl: true,
    keyboard: true,
    preferCanvas: true,
  });
  var b = config.bounds;
  map.fitBounds([
    [b[1], b[0]],
    [b[3], b[2]],
  ]);
  L.control.scale({ imperial: false }).addTo(map);
  /* Our data is WGS 84; drawn over Amap tiles it is shifted to GCJ-02 (core.js). */
  GS.datum = config.datum;
  var toMap = GS.toMap;
  config.tiles.forEach(function (tile, i) {
    if (i === 0) {
      L.tileLayer(tile.url, {
        attribution: tile.attr,
        maxZoom: tile.max_zoom,
        subdomains: tile.subdomains || "abc",
      }).addTo(map);
    }
  });
  config.background.forEach(function (def) {
    GS.fetchAll(def.url)
      .catch(function () {
        return []; /* the background is decoration: the locator works without it */
      })
      .then(function (features) {
        L.geoJSON({ type: "FeatureCollection", features: features }, {
          interactive: false,
          style: {
            color: def.style.color,
            weight: def.style.weight,
            fill: def.fill && def.geometry.indexOf("Line") < 0,
            fillColor: def.style.fillColor,
            fillOpacity: def.style.fillOpacity,
          },
          coordsToLatLng: function (c) {
            return toMap(c[0], c[1]);
          },
        }).addTo(map);
      });
  });
  var resultLayer = L.layerGroup().addTo(map);
  var routeLayer = L.layerGroup().addTo(map);
  var originMarker = null;

  function nameOf(props) {
    /* the name in the page's language, else the local name, else any name there is */
    return props["name_" + lang] || props.name || props.name_zh || props.name_en || props.id || "";
  }

  function levelName(level) {
    var labels = (config.levels || {})[level];
    return (labels && labels[lang]) || TEXT[lang].levels[level] || level || "";
  }

  /* The page's address for the answer shown: the point, its name, filters, time, language. */
  function shareUrl() {
    var query = new URLSearchParams();
    query.set("lon", state.origin[0].toFixed(6));
    query.set("lat", state.origin[1].toFixed(6));
    query.set("from", state.originName());
    if ($("service").value) {
      query.set("service", $("service").value);
    }
    if ($("open-now").checked) {
      query.set("open_now", "true");
    }
    if (at) {
      query.set("at", at);
    }
    query.set("lang", lang);
    return location.pathname + "?" + query.toString();
  }

  function showOrigin() {
    $("origin").textContent = t("from", { name: state.originName() });
  }

  /* Place search: our gazetteer of community, compound, centre and street names, shown
     as the ARIA combobox pattern: focus stays in the box, the arrow keys move through the
     suggestions (aria-activedescendant), Enter takes one, Escape closes them. */
  var searchTimer = null;
  var suggestions = { features: [], active: -1 };
  /* Answers can come back out of order (a short query is often the slower one): each
     search and each nearest-centres request takes a ticket, and only the answer to the
     latest ticket is shown. */
  var placesTicket = 0;
  var nearestTicket = 0;
  var answers = { places: 0, nearest: 0 }; /* answers come in, the latest's or not */

  function showSuggestions(open) {
    $("places").hidden = !open;
    $("q").setAttribute("aria-expanded", open ? "true" : "false");
    if (!open) {
      setActive(-1);
    }
  }

  function setActive(k) {
    var options = $("places").querySelectorAll('[role="option"]');
    suggestions.active = k;
    for (var i = 0; i < options.length; i++) {
      options[i].setAttribute("aria-selected", i === k ? "true" : "false");
      options[i].classList.toggle("active", i === k);
    }
    if (k >= 0 && options[k]) {
      $("q").setAttribute("aria-activedescendant", options[k].id);
      options[k].scrollIntoView({ block: "nearest" });
    } else {
      $("q").removeAttribute("aria-activedescendant");
    }
  }

  function searchPlaces(text, chooseFirst) {
    var query = text.trim();
    var ticket = ++placesTicket;
    if (!query) {
      showSuggestions(false);
      return;
    }
    fetch(config.api + "locator/places?limit=8&q=" + encodeURIComponent(query))
      .then(function (response) {
        return response.ok ? response.json() : { features: [] };
      })
      .catch(function () {
        return { features: [], failed: true };
      })
      .then(function (collection) {
        answers.places++;
        if (ticket !== placesTicket) {
          return; /* a later search was asked for: its answer is the one shown */
        }
        var list = $("places");
        list.setAttribute("data-query", query);
        list.innerHTML = "";
        suggestions.features = collection.features;
        if (!collection.features.length) {
          var message = collection.failed ? t("placeError") : t("noPlaces");
          list.innerHTML = '<li class="empty">' + escapeHtml(message) + "</li>";
          $("status").textContent = message;
        }
        collection.features.forEach(function (feature, k) {
          var item = document.createElement("li");
          item.id = "place-" + k;
          item.className = "place";
          item.setAttribute("role", "option");
          item.setAttribute("aria-selected", "false");
          var names = [feature.properties.name_zh, feature.properties.name_en].filter(Boolean);
          item.textContent = names.filter(function (n, j) {
            return names.indexOf(n) === j;
          }).join(" · ") || nameOf(feature.properties);
          item.addEventListener("click", function () {
            choosePlace(feature);
          });
          list.appendChild(item);
        });
        showSuggestions(true);
        if (chooseFirst && collection.features.length) {
          choosePlace(collection.features[0]);
        }
      });
  }

  /* A start chosen (a place taken, the map clicked…) or the list closed: a search still
     waiting or under way is dropped, so that its answer does not open the list again
     over the results. */
  function cancelSearch() {
    clearTimeout(searchTimer);
    placesTicket++;
  }

  function choosePlace(feature) {
    var c = feature.geometry.coordinates;
    state.focusResults = true;
    showSuggestions(false);
    $("q").value = nameOf(feature.properties);
    setOrigin(c[0], c[1], function () {
      return nameOf(feature.properties);
    });
  }

  function setOrigin(lon, lat, name) {
    cancelSearch(); /* from the map, my location or a link too: a typed search is dropped */
    state.origin = [lon, lat];
    state.originName = name;
    if (originMarker) {
      map.removeLayer(originMarker);
    }
    originMarker = L.circleMarker(toMap(lon, lat), {
      radius: 8,
      color: "#ffffff",
      weight: 3,
      fillColor: "#0b57a4",
      fillOpacity: 1,
    }).addTo(map);
    showOrigin();
    findNearest();
  }

  function findNearest() {
    if (!state.origin) {
      return;
    }
    var query = "lon=" + state.origin[0].toFixed(6) + "&lat=" + state.origin[1].toFixed(6);
    query += "&n=5";
    if ($("service").value) {
      query += "&service=" + encodeURIComponent($("service").value);
    }
    if ($("open-now").checked) {
      query += "&open_now=true";
    }
    if (at) {
      query += "&at=" + encodeURIComponent(at);
    }
    $("status").textContent = t("loading");
    document.body.setAttribute("data-gs-busy", "true");
    var ticket = ++nearestTicket;
    function latest() {
      return ticket === nearestTicket;
    }
    fetch(config.api + "locator/nearest?" + query)
      .then(function (response) {
        return response.json().then(function (body) {
          if (!response.ok) {
            throw { code: body.code, description: body.description || String(response.status) };
          }
          return body;
        });
      })
      .then(function (collection) {
        if (!latest()) {
          return; /* the origin or a filter changed since: a later request answers */
        }
        state.error = null;
        state.results = collection.features;
        state.at = collection.at;
        $("share").href = shareUrl();
        $("share").hidden = false;
        history.replaceState(null, "", shareUrl());
        state.openingNext = collection.opening_next || [];
        state.selected = state.results.length ? state.results[0].id : null;
        render();
        fitResults();
        if (state.focusResults) {
          $("results-heading").focus(); /* the keyboard goes where the answer is */
        }
        state.focusResults = false;
      })
      .catch(function (error) {
        if (!latest()) {
          return;
        }
        state.error = error && error.code ? error : { code: "offline" };
        state.results = [];
        state.selected = null;
        render();
      })
      .then(function () {
        answers.nearest++;
        if (latest()) {
          document.body.setAttribute("data-gs-busy", "false");
        }
      });
  }

  function errorText(error) {
    if (error.code === "OutsideArea") {
      return t("outside");
    }
    if (error.code === "NoRoadNearby") {
      return t("noRoad");
    }
    if (error.code === "offline") {
      return t("offline");
    }
    return t("error", { message: error.description });
  }

  function openingNextText() {
    var first = state.openingNext[0];
    var when = GS.locatorOpening.dayAndTime(first.opens_at, { t: t, at: state.at });
    return t("openingNext", Object.assign(when, {
      name: nameOf(first),
      min: Math.round(first.minutes),
    }));
  }

  /* The list and the map, drawn from the same results and the same selection. */
  function render() {
    var list = $("results");
    /* The weeks opened as they are now (a toggle event may not have come yet). */
    Array.prototype.forEach.call(list.querySelectorAll("li.result"), function (item) {
      var week = item.querySelector("details.week");
      if (week) {
        weekOpen[item.getAttribute("data-id")] = week.open;
      }
    });
    list.innerHTML = "";
    resultLayer.clearLayers();
    routeLayer.clearLayers();
    $("status").textContent = state.error
      ? errorText(state.error)
      : state.results.length
        ? t("found", { n: state.results.length })
        : state.openingNext && state.openingNext.length
          ? openingNextText()
          : t("none");
    state.results.forEach(function (feature, i) {
      var p = feature.properties;
      var selected = feature.id === state.selected;
      var item = document.createElement("li");
      item.className = "result" + (selected ? " selected" : "");
      item.setAttribute("data-id", feature.id);
      item.innerHTML = card.html(feature, i + 1, {
        lang: lang,
        t: t,
        at: state.at,
        services: config.services,
        name: nameOf(p),
        level: levelName(p.level),
        weekOpen: !!weekOpen[feature.id],
      });
      var week = item.querySelector("details.week");
      if (week) {
        week.addEventListener("toggle", function () {
          weekOpen[feature.id] = week.open;
        });
      }
      var actions = document.createElement("p");
      actions.className = "actions";
      var routeButton = document.createElement("button");
      routeButton.type = "button";
      routeButton.className = "route";
      routeButton.textContent = selected ? t("routeShown") : t("route");
      routeButton.setAttribute("aria-pressed", selected ? "true" : "false");
      routeButton.addEventListener("click", function () {
        select(feature.id, true);
      });
      actions.appendChild(routeButton);
      Object.keys(p.links).forEach(function (app) {
        var a = document.createElement("a");
        a.href = p.links[app];
        if (app !== "geo") {
          a.target = "_blank";
          a.rel = "noopener";
        }
        a.textContent = t(app);
        actions.appendChild(a);
      });
      item.appendChild(actions);
      list.appendChild(item);

      var c = feature.geometry.coordinates;
      var marker = L.marker(toMap(c[0], c[1]), {
        title: nameOf(p),
        alt: nameOf(p),
        icon: L.divIcon({
          className: "centre-marker" + (selected ? " selected" : ""),
          html: "<span>" + (i + 1) + "</span>",
          iconSize: [44, 44],
        }),
      });
      marker.on("click", function () {
        select(feature.id, false);
        var row = list.querySelector('[data-id="' + feature.id + '"] button.route');
        if (row) {
          row.focus();
        }
      });
      resultLayer.addLayer(marker);
      if (selected && p.route) {
        L.geoJSON(p.route, {
          style: { color: "#0b57a4", weight: 5, opacity: 0.85 },
          coordsToLatLng: function (coords) {
            return toMap(coords[0], coords[1]);
          },
        }).addTo(routeLayer);
      }
    });
  }

  function select(id, focusButton) {
    state.selected = id;
    render();
    if (focusButton) {
      var row = $("results").querySelector('[data-id="' + id + '"] button.route');
      if (row) {
        row.focus();
      }
    }
  }

  function fitResults() {
    var points = state.results.map(function (f) {
      return toMap(f.geometry.coordinates[0], f.geometry.coordinates[1]);
    });
    if (state.origin) {
      points.push(toMap(state.origin[0], state.origin[1]));
    }
    if (points.length) {
      map.fitBounds(L.latLngBounds(points), { padding: [30, 30], maxZoom: 16 });
    }
  }

  $("search").addEventListener("submit", function (event) {
    event.preventDefault();
    clearTimeout(searchTimer);
    if (!$("places").hidden && suggestions.active >= 0) {
      choosePlace(suggestions.features[suggestions.active]);
      return;
    }
    searchPlaces($("q").value, true);
  });
  $("q").addEventListener("input", function () {
    clearTimeout(searchTimer);
    searchTimer = setTimeout(function () {
      searchPlaces($("q").value, false);
    }, 200);
  });
  $("q").addEventListener("keydown", function (event) {
    var count = suggestions.features.length;
    if (event.key === "Escape") {
      cancelSearch();
      showSuggestions(false);
    } else if ((event.key === "ArrowDown" || event.key === "ArrowUp") && count) {
      event.preventDefault();
      if ($("places").hidden) {
        showSuggestions(true);
      }
      var step = event.key === "ArrowDown" ? 1 : -1;
      var now = suggestions.active;
      setActive(now < 0 ? (step > 0 ? 0 : count - 1) : (now + step + count) % count);
    }
  });
  $("service").addEventListener("change", findNearest);
  $("open-now").addEventListener("change", findNearest);
  $("locate").addEventListener("click", function () {
    if (!navigator.geolocation) {
      $("status").textContent = t("noLocation");
      return;
    }
    navigator.geolocation.getCurrentPosition(
      function (position) {
        setOrigin(position.coords.longitude, position.coords.latitude, function () {
          return t("myLocation");
        });
      },
      function () {
        $("status").textContent = t("noLocation");
      },
      { enableHighAccuracy: true, timeout: 10000 }
    );
  });
  map.on("click", function (event) {
    var lon = event.latlng.lng;
    var lat = event.latlng.lat;
    if (config.datum === "gcj02") {
      /* Undo the shift: the API speaks WGS 84 (one fixed-point step is ~1 m). */
      var shifted = GS.wgs84ToGcj02(lon, lat);
      lon -= shifted[0] - lon;
      lat -= shifted[1] - lat;
    }
    setOrigin(lon, lat, function () {
      return t("here");
    });
  });
  $("lang").addEventListener("click", function () {
    lang = lang === "zh" ? "en" : "zh";
    try {
      window.localStorage.setItem("gs-lang", lang);
    } catch (e) {
      /* not remembered: fine */
    }
    applyLanguage();
  });
  GS.locator = { map: map, results: resultLayer, route: routeLayer, answers: answers };
  applyLanguage();

  /* A shared link (see shareUrl) reopens the same answer: same point, filters and time. */
  var sharedLon = parseFloat(params.get("lon"));
  var sharedLat = parseFloat(params.get("lat"));
  if (isFinite(sharedLon) && isFinite(sharedLat)) {
    if (params.get("service")) {
      $("service").value = params.get("service");
    }
    $("open-now").checked = params.get("open_now") === "true";
    setOrigin(sharedLon, sharedLat, function () {
      return params.get("from") || t("here");
    });
  }
})();
