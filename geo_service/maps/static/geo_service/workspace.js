/* The planner's summary panel beside the map: the headline with its criterion, the areas
 * as bars from the least covered, a sortable community table linked both ways to the map
 * (a row outlines and zooms to its community; a click on a community selects its row and
 * opens its card), and the gap list with its total. Everything comes from the API the map
 * already uses. Other parts of the panel register in GS.workspaceParts (whatif.js,
 * handouts.js). */
(function (global) {
  "use strict";
  var GS = global.GeoService;
  var escapeHtml = GS.escapeHtml;

  function percent(value) {
    return value === null || value === undefined ? "–" : (100 * value).toFixed(1) + "%";
  }

  function number(value) {
    return value === null || value === undefined ? "–" : Number(value).toLocaleString("en");
  }

  function nameOf(props) {
    var names = [props.name_zh, props.name_en, props.name].filter(Boolean);
    return names.filter(function (n, k) {
      return names.indexOf(n) === k;
    }).join(" · ") || String(props.id);
  }

  function getJson(url) {
    return fetch(url, { headers: { Accept: "application/json" } }).then(function (response) {
      if (!response.ok) {
        throw new Error(url + ": HTTP " + response.status);
      }
      return response.json();
    });
  }

  function items(api, layer, query) {
    return getJson(api + "collections/" + layer + "/items?f=json&skipGeometry=true&limit=10000" +
      (query || "")).then(function (page) {
      return page.features.map(function (f) {
        return f.properties;
      });
    });
  }

  function layerById(id) {
    return GS.layers.filter(function (layer) {
      return layer.gsDefinition.id === id;
    })[0];
  }

  /* The layer on the map with its features loaded (it loads the first time it is shown). */
  function shown(map, layer) {
    return new Promise(function (resolve) {
      if (layer.gsLoaded) {
        resolve(layer);
      } else {
        layer.once("gs:loaded", function () {
          resolve(layer);
        });
      }
      if (!map.hasLayer(layer)) {
        map.addLayer(layer);
      }
    });
  }

  function featureOf(layer, id) {
    var found = null;
    layer.eachLayer(function (sub) {
      var feature = sub.feature || {};
      if (String(feature.id) === String(id) || String((feature.properties || {}).id) === String(id)) {
        found = sub;
      }
    });
    return found;
  }

  GS.workspace = function (map, options) {
    var api = options.api;
    var state = { sort: "share", ascending: true, area: "", communities: [], selected: null,
      scenario: null };
    var parts = [];
    var control = L.control({ position: "topright" });
    var box;
    control.onAdd = function () {
      box = L.DomUtil.create("details", "gs-workspace leaflet-control");
      box.open = window.innerWidth > 900;
      box.innerHTML = '<summary>概览 / Summary</summary><div class="gs-ws-body" ' +
        'aria-live="polite"><p>载入中… / Loading…</p></div>';
      L.DomEvent.disableClickPropagation(box);
      L.DomEvent.disableScrollPropagation(box);
      return box;
    };
    control.addTo(map);
    GS.workspacePanel = control;

    var requests = [
      getJson(api + "coverage/summary?f=json"),
      options.areas ? items(api, options.areas) : Promise.resolve([]),
      items(api, options.communities),
      items(api, options.gaps, "&sortby=rank"),
    ];
    Promise.all(requests)
      .then(function (answers) {
        state.summary = answers[0];
        state.areaNames = {};
        answers[1].forEach(function (area) {
          state.areaNames[area.id] = nameOf(area);
        });
        state.communities = answers[2];
        state.gaps = answers[3];
        render();
        parts.forEach(function (part) {
          if (part.ready) {
            part.ready();
          }
        });
      })
      .catch(function (error) {
        box.querySelector(".gs-ws-body").innerHTML =
          '<p role="alert">概览加载失败 / Could not load the summary: ' +
          escapeHtml(String(error)) + "</p>";
      });

    function headline() {
      var s = state.summary;
      var c = s.criterion;
      var circles = Object.keys(c.circles_m);
      var widest = circles[circles.length - 1];
      return (
        '<p class="gs-headline"><strong data-figure="share">' +
        percent(s.district["share_" + widest]) + "</strong> 的居民 · of residents</p>" +
        '<p class="gs-criterion">' + escapeHtml(c.rule_zh) + "<br>" + escapeHtml(c.rule_en) +
        "</p>"
      );
    }

    function bars() {
      var widest = Object.keys(state.summary.criterion.circles_m).pop();
      var rows = state.summary.subdistricts.slice().sort(function (a, b) {
        return a["share_" + widest] - b["share_" + widest];
      });
      return (
        '<h2>各片区（由低到高） · Areas, least covered first</h2><ol class="gs-bars">' +
        rows.map(function (row) {
          var share = row["share_" + widest];
          return '<li data-area="' + escapeHtml(row.group) + '"><span class="gs-bar-label">' +
            escapeHtml(state.areaNames[row.group] || row.group) + "</span>" +
            '<span class="gs-bar-track"><span class="gs-bar" style="width:' +
            (100 * share).toFixed(1) + '%"></span></span><span class="gs-bar-value">' +
            percent(share) + "</span></li>";
        }).join("") + "</ol>"
      );
    }

    function sortedCommunities() {
      var key = { share: "share_15", residents: "residents", name: "id" }[state.sort];
      var rows = state.communities.filter(function (c) {
        return !state.area || c[options.areaKey] === state.area;
      });
      return rows.sort(function (a, b) {
        var x = a[key], y = b[key];
        var order = x === y ? 0 : x === null || x === undefined ? 1 : x < y ? -1 : 1;
        return state.ascending ? order : -order;
      });
    }

    function header(key, text) {
      var sort = state.sort === key ? (state.ascending ? "ascending" : "descending") : "none";
      return '<th scope="col" aria-sort="' + sort + '"><button type="button" data-sort="' +
        key + '">' + text + "</button></th>";
    }

    function communityTable() {
      var areas = Object.keys(state.areaNames);
      var filter = areas.length
        ? '<label class="gs-ws-filter">片区 Area <select data-filter="area"><option value="">' +
          "全部 All</option>" + areas.map(function (id) {
            return '<option value="' + escapeHtml(id) + '"' +
              (state.area === id ? " selected" : "") + ">" + escapeHtml(state.areaNames[id]) +
              "</option>";
          }).join("") + "</select></label>"
        : "";
      var rows = sortedCommunities().map(function (c) {
        var selected = state.selected === c.id ? ' class="selected"' : "";
        return "<tr" + selected + ' data-id="' + escapeHtml(c.id) + '"><td><button type="button" ' +
          'data-community="' + escapeHtml(c.id) + '">' + escapeHtml(nameOf(c)) +
          "</button></td><td>" + number(c.residents) + "</td><td>" + percent(c.share_15) +
          "</td><td>" + String((c.lacks || "").split(";").filter(Boolean).length || "") +
          "</td></tr>";
      }).join("");
      return (
        "<h2>社区 · Communities</h2>" + filter +
        '<div class="gs-ws-table"><table><thead><tr>' +
        header("name", "社区 Community") + header("residents", "居民 Residents") +
        header("share", "15分钟 15 min") + '<th scope="col">缺项 Lacks</th></tr></thead>' +
        "<tbody>" + rows + "</tbody></table></div>"
      );
    }

    function gapList() {
      var gaps = state.summary.gaps;
      var list = state.gaps.slice(0, options.gapsShown).map(function (g) {
        return '<li><button type="button" data-gap="' + escapeHtml(g.id) + '">' +
          escapeHtml(nameOf(g)) + "</button> " + number(g.population) + " 人 · residents</li>";
      }).join("");
      return (
        "<h2>服务盲区 · Gaps</h2>" +
        '<p class="gs-gap-total"><strong data-figure="gaps">' + number(gaps.compounds) +
        "</strong> 个小区 compounds · <strong data-figure=\"gap-residents\">" +
        number(gaps.residents) + "</strong> 名居民 residents<br>" +
        escapeHtml(gaps.rule_zh || "") + " · " + escapeHtml(gaps.rule_en || "") + "</p>" +
        '<ol class="gs-gaps">' + list + "</ol>"
      );
    }

    /* The panel's control that has the keyboard focus, as a selector (its first data-*
       switch, name or id) and its place among the controls that selector finds, so that
       drawing the panel again gives the focus back to it: an answer that comes in while
       a planner tabs through the panel keeps their place. */
    function focusedControl(body) {
      var active = document.activeElement;
      if (!active || active === body || !body.contains(active)) {
        return null;
      }
      var selector = null;
      var keys = Object.keys(active.dataset);
      if (keys.length) {
        var attribute = "data-" + keys[0].replace(/[A-Z]/g, function (c) {
          return "-" + c.toLowerCase();
        });
        selector = "[" + attribute + '="' + CSS.escape(active.dataset[keys[0]]) + '"]';
      } else if (active.name) {
        selector = '[name="' + CSS.escape(active.name) + '"]';
      } else if (active.id) {
        selector = "#" + CSS.escape(active.id);
      }
      if (!selector) {
        return null;
      }
      var index = Array.prototype.indexOf.call(body.querySelectorAll(selector), active);
      return { selector: selector, index: Math.max(index, 0) };
    }

    function render() {
      var body = box.querySelector(".gs-ws-body");
      var focused = focusedControl(body);
      body.innerHTML =
        headline() + bars() + (state.selected ? cardSection() : "") +
        parts.map(function (part) { return part.html(); }).join("") + communityTable() +
        gapList();
      var again = focused && body.querySelectorAll(focused.selector)[focused.index];
      if (again && !again.disabled) {
        again.focus();
      }
    }

    function select(layerId, id) {
      var layer = layerById(layerId);
      if (!layer) {
        return Promise.resolve(null);
      }
      return shown(map, layer).then(function () {
        var feature = featureOf(layer, id);
        if (feature) {
          map.fitBounds(feature.getBounds ? feature.getBounds() : L.latLngBounds([
            feature.getLatLng(), feature.getLatLng()]), { maxZoom: 16 });
          feature.openPopup();
        }
        return feature;
      });
    }

    function selectCommunity(id) {
      state.selected = id;
      state.card = null;
      render();
      loadCard(id);
      return select(options.communities, id);
    }

    /* The selected community's compounds: which centres they walk to, and how far. */
    function loadCard(id) {
      if (!options.communityKey) {
        return;
      }
      var names = state.centreNames ? Promise.resolve(state.centreNames)
        : items(api, options.centres).then(function (centres) {
          state.centreNames = {};
          centres.forEach(function (c) {
            state.centreNames[c.id] = nameOf(c);
          });
          return state.centreNames;
        });
      var query = "&" + encodeURIComponent(options.communityKey) + "=" + encodeURIComponent(id);
      Promise.all([names, items(api, options.compounds, query)]).then(function (answers) {
        if (state.selected !== id) {
          return;
        }
        var nearest = {};
        answers[1].forEach(function (compound) {
          var centre = compound[options.headline + "_id"];
          var metres = compound[options.headline + "_m"];
          if (!centre) {
            return;
          }
          var entry = nearest[centre] || (nearest[centre] = { id: centre, metres: metres,
            compounds: 0 });
          entry.compounds += 1;
          entry.metres = Math.min(entry.metres, metres);
        });
        state.card = { id: id, centres: Object.keys(nearest).map(function (k) {
          return nearest[k];
        }).sort(function (a, b) { return a.metres - b.metres; }) };
        render();
      }).catch(function () {
        state.card = { id: id, centres: null };
        render();
      });
    }

    /* The selected community: shares by circle and by type (each within its circle),
     * the gaps inside it, and the centres its compounds walk to. */
    function cardSection() {
      var id = state.selected;
      var row = state.communities.filter(function (c) {
        return String(c.id) === String(id);
      })[0];
      if (!row) {
        return "";
      }
      var circles = Object.keys(state.summary.criterion.circles_m);
      var shares = circles.map(function (m) {
        return m + "分钟 " + m + " min: " + percent(row["share_" + m]);
      }).join(" · ");
      var titles = options.types || {};
      var types = Object.keys(titles).map(function (key) {
        var lacking = (row.lacks || "").split(";").indexOf(key) >= 0;
        return "<li" + (lacking ? ' class="gs-lacking"' : "") + ">" +
          escapeHtml(titles[key].zh + " " + titles[key].en) + ": " +
          percent(row["reach_" + key]) + (lacking ? " — 缺项 lacking" : "") + "</li>";
      }).join("");
      var gaps = state.gaps.filter(function (g) {
        return String(g[options.communityKey]) === String(id);
      }).map(function (g) {
        return "<li>" + escapeHtml(nameOf(g)) + " · " + number(g.population) + " 人</li>";
      }).join("");
      var card = state.card && state.card.id === id ? state.card : null;
      var centres = !card ? "<p>载入中… / Loading…</p>" : !card.centres
        ? '<p role="alert">无法载入 / Could not load</p>'
        : "<ul>" + card.centres.map(function (c) {
          return "<li>" + escapeHtml((state.centreNames || {})[c.id] || c.id) + ": " +
            number(Math.round(c.metres)) + " m · " + c.compounds + " 个小区 compounds</li>";
        }).join("") + "</ul>";
      return '<section class="gs-card" aria-label="社区卡片 Community card">' +
        "<h2>" + escapeHtml(nameOf(row)) + "</h2><p>" + number(row.residents) +
        " 人 residents · " + shares + '</p><h3>按类型（各按其生活圈） By type</h3><ul>' +
        types + "</ul><h3>服务盲区 Gaps in it</h3>" + (gaps ? "<ul>" + gaps + "</ul>"
          : "<p>无 None</p>") + "<h3>最近的中心 Nearest centres</h3>" + centres + "</section>";
    }

    box.addEventListener("click", function (event) {
      /* The panel redraws itself under the click: keep the click from the map (Leaflet
       * would no longer see that it came from a control and take it as a map click). */
      L.DomEvent.stopPropagation(event);
      var target = event.target.closest("button");
      if (!target) {
        return;
      }
      if (target.dataset.sort) {
        state.ascending = state.sort === target.dataset.sort ? !state.ascending : true;
        state.sort = target.dataset.sort;
        render();
      } else if (target.dataset.community) {
        selectCommunity(target.dataset.community);
      } else if (target.dataset.gap) {
        select(options.gaps, target.dataset.gap);
      } else {
        delegate("click", target);
      }
    });
    ["submit", "input", "change"].forEach(function (kind) {
      box.addEventListener(kind, function (event) {
        if (kind === "submit") {
          event.preventDefault();
        }
        delegate(kind, event);
      });
    });
    box.addEventListener("change", function (event) {
      if (event.target.dataset.filter === "area") {
        state.area = event.target.value;
        render();
      }
    });
    /* A click on a community on the map selects its row. */
    var communities = layerById(options.communities);
    if (communities) {
      communities.on("click", function (event) {
        var feature = event.layer && event.layer.feature;
        if (feature && state.summary) {
          state.selected = String(feature.id || feature.properties.id);
          state.card = null;
          loadCard(state.selected);
          render();
          var row = box.querySelector('tr[data-id="' + state.selected + '"]');
          if (row) {
            row.scrollIntoView({ block: "nearest" });
          }
        }
      });
    }
    GS.selectCommunity = selectCommunity;

    /* The panel's other parts (what-if and scenarios, handouts: GS.workspaceParts), each
     * given what it needs and drawn after the community card, in the order registered. */
    function delegate(kind, what) {
      parts.forEach(function (part) {
        if (part[kind]) {
          part[kind](what);
        }
      });
    }
    var ws = { map: map, options: options, api: api, state: state, box: box, render: render,
      layerById: layerById, shown: shown, featureOf: featureOf, getJson: getJson };
    GS.workspaceParts.forEach(function (make) {
      parts.push(make(ws));
    });
  };

  /* Helpers the parts share, and the parts themselves (whatif.js, handouts.js). */
  GS.workspaceHelpers = { percent: percent, number: number, nameOf: nameOf };
  GS.workspaceParts = [];
})(window);
