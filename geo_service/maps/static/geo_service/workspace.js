/* The planner's summary panel beside the map: the headline with its criterion, the areas
 * as bars from the least covered, a sortable community table linked both ways to the map
 * (a row outlines and zooms to its community; a click on a community selects its row),
 * and the gap list with its total. Everything comes from the API the map already uses. */
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

  function emptyWhatIf() {
    return { mode: null, added: [], offers: [], removed: [], result: null, error: null,
      busy: false };
  }

  GS.workspace = function (map, options) {
    var api = options.api;
    var state = { sort: "share", ascending: true, area: "", communities: [], selected: null };
    var whatIf = emptyWhatIf();
    var levelKeys = (options.levels || []).map(function (t) { return t.key; });
    var offer = { level: levelKeys[levelKeys.length - 1] || null,
      services: (options.services || []).map(function (t) { return t.key; }) };
    var saved = { list: [], name: "", key: sessionStorage.getItem("gs-api-key") || "",
      needKey: false, error: null, opened: null };
    var marks = L.layerGroup().addTo(map); /* proposed sites, closed centres */
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
        printCriterion();
        render();
        return loadScenarios();
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

    function change(before, after) {
      var delta = 100 * (after - before);
      return percent(before) + " → " + percent(after) + " (" + (delta >= 0 ? "+" : "") +
        delta.toFixed(1) + ")";
    }

    function whatIfSection() {
      var prompt = { add: "点击地图放置新中心 · Click the map to place a centre",
        close: "点击要关闭的中心 · Click a centre to close it" }[whatIf.mode] || "";
      var html = "<h2>假设 · What-if</h2><p class=\"gs-whatif-buttons\">" +
        '<button type="button" data-whatif="add" aria-pressed="' + (whatIf.mode === "add") +
        '">新增中心 Add a centre</button> <button type="button" data-whatif="close" ' +
        'aria-pressed="' + (whatIf.mode === "close") + '">关闭中心 Close a centre</button> ' +
        '<button type="button" data-whatif="clear">清除 Clear</button></p>' +
        '<p class="gs-whatif-prompt">' + escapeHtml(prompt) + "</p>" +
        (whatIf.mode === "add" ? offerForm() : "");
      var r = whatIf.result;
      if (whatIf.busy) {
        html += "<p>计算中… / Computing…</p>";
      } else if (whatIf.error) {
        html += '<p role="alert">' + escapeHtml(whatIf.error) + "</p>";
      } else if (r) {
        var widest = Object.keys(state.summary.criterion.circles_m).pop();
        html += '<p class="gs-whatif-result" data-figure="whatif">' +
          "15分钟覆盖 · within " + widest + " min: <strong>" +
          change(r.before.district["share_" + widest], r.after.district["share_" + widest]) +
          "</strong><br>新增 · gained: " + number(r.gain.residents) + " 人 residents, " +
          number(r.gain.compounds) + " 个小区 compounds" +
          "<br>失去 · lost: " + number(r.loss.residents) + " 人 residents, " +
          number(r.loss.compounds) + " 个小区 compounds</p>" + typeChanges(r) + areaChanges(r) +
          r.sites.filter(function (site) {
            return site.snap_status !== "ok";
          }).map(function (site) {
            return '<p role="alert">' + escapeHtml(site.id) + ": " +
              escapeHtml(site.snap_status) + "</p>";
          }).join("");
      }
      return html;
    }

    function markSite(geometry) {
      if (geometry.type === "Point") {
        var c = geometry.coordinates;
        L.circleMarker([c[1], c[0]], { radius: 9, color: "#000", weight: 3, fillColor: "#ffd700",
          fillOpacity: 1, interactive: false }).addTo(marks);
      } else {
        L.geoJSON(geometry, { interactive: false, style: { color: "#000", weight: 3,
          fillColor: "#ffd700", fillOpacity: 0.5 } }).addTo(marks);
      }
    }

    function markClosed(latlng) {
      L.circleMarker(latlng, { radius: 11, color: "#d7191c", weight: 3, fill: false,
        dashArray: "3 3", interactive: false }).addTo(marks);
    }

    /* The areas of the finest level whose covered residents change, most changed first. */
    function areaChanges(result) {
      var level = options.communityKey;
      var names = {};
      state.communities.forEach(function (c) {
        names[c.id] = nameOf(c);
      });
      var rows = result.areas.filter(function (a) {
        return a.level === level;
      }).sort(function (a, b) {
        return (b.gained_residents + b.lost_residents) - (a.gained_residents + a.lost_residents);
      });
      if (!rows.length) {
        return "";
      }
      return '<table class="gs-whatif-areas"><caption>按社区 · By community</caption><thead><tr>' +
        '<th scope="col">社区 Community</th><th scope="col">前 → 后 Before → after</th>' +
        '<th scope="col">增 Gained</th><th scope="col">减 Lost</th></tr></thead><tbody>' +
        rows.map(function (a) {
          return '<tr data-area="' + escapeHtml(a.id) + '"><td>' +
            escapeHtml(names[a.id] || state.areaNames[a.id] || a.id) + "</td><td>" +
            percent(a.share_before) + " → " + percent(a.share_after) + "</td><td>" +
            number(a.gained_residents) + "</td><td>" + number(a.lost_residents) + "</td></tr>";
        }).join("") + "</tbody></table>";
    }

    function savedSection() {
      var changed = whatIf.added.length || whatIf.removed.length;
      var html = "<h2>方案 · Scenarios</h2>" +
        '<form class="gs-scenario-save"><label>方案名称 · Scenario name <input type="text" ' +
        'name="scenario-name" maxlength="80" value="' + escapeHtml(saved.name) + '"></label> ' +
        '<button type="submit"' + (changed ? "" : " disabled") + ">保存 Save</button>";
      if (saved.needKey) {
        html += '<br><label>员工密钥 · Staff API key <input type="password" name="api-key" ' +
          'autocomplete="off" value="' + escapeHtml(saved.key) + '"></label>';
      }
      html += "</form>";
      if (saved.error) {
        html += '<p role="alert">' + escapeHtml(saved.error) + "</p>";
      }
      if (!saved.list.length) {
        return html + "<p>尚无保存的方案 · No saved scenarios</p>";
      }
      return html + '<ul class="gs-scenarios">' + saved.list.map(function (s) {
        var sum = s.summary;
        return '<li data-scenario="' + escapeHtml(s.id) + '"><strong>' + escapeHtml(s.name) +
          "</strong> " + percent(sum.share_before) + " → " + percent(sum.share_after) +
          ' <button type="button" data-open="' + escapeHtml(s.id) + '">打开 Open</button> ' +
          '<button type="button" data-delete="' + escapeHtml(s.id) + '">删除 Delete</button></li>';
      }).join("") + "</ul>";
    }

    function authHeaders() {
      var headers = { "Content-Type": "application/json", Accept: "application/json" };
      if (saved.key) {
        headers["X-API-Key"] = saved.key;
      }
      return headers;
    }

    function answerOf(response) {
      if (response.status === 204) {
        return null;
      }
      return response.json().then(function (answer) {
        if (!response.ok) {
          var error = new Error(answer.description || String(response.status));
          error.status = response.status;
          throw error;
        }
        return answer;
      });
    }

    function loadScenarios() {
      return getJson(api + "scenarios").then(function (answer) {
        saved.list = answer.scenarios;
        if (state.summary) {
          render();
        }
      });
    }

    function writeFailed(error) {
      if (error.status === 401 || error.status === 403) {
        saved.needKey = true;
        saved.error = "保存或删除方案需要员工密钥 / Saving or deleting needs a staff API key: " +
          error.message;
      } else {
        saved.error = "方案操作失败 / Scenario failed: " + error.message;
      }
      render();
    }

    function saveScenario() {
      saved.error = null;
      fetch(api + "scenarios", { method: "POST", headers: authHeaders(), body: JSON.stringify({
        name: saved.name,
        add: { type: "FeatureCollection", features: whatIf.added.map(function (geometry, k) {
          return { type: "Feature", properties: whatIf.offers[k] || {}, geometry: geometry };
        }) },
        remove: whatIf.removed,
      }) })
        .then(answerOf)
        .then(function (record) {
          saved.name = "";
          saved.needKey = false;
          whatIf.result = record.answer;
          return loadScenarios();
        })
        .catch(writeFailed);
    }

    function deleteScenario(id) {
      saved.error = null;
      fetch(api + "scenarios/" + encodeURIComponent(id), { method: "DELETE",
        headers: authHeaders() })
        .then(answerOf)
        .then(loadScenarios)
        .catch(writeFailed);
    }

    /* Reopen a saved scenario: its sites and closures on the map, its answer recomputed. */
    function openScenario(id) {
      saved.error = null;
      getJson(api + "scenarios/" + encodeURIComponent(id)).then(function (record) {
        marks.clearLayers();
        whatIf = emptyWhatIf();
        whatIf.added = record.add.features.map(function (f) {
          return f.geometry;
        });
        whatIf.offers = record.add.features.map(function (f) {
          return f.properties || {};
        });
        whatIf.removed = record.remove.slice();
        whatIf.result = record.answer;
        whatIf.added.forEach(markSite);
        var centres = layerById(options.centres);
        (centres ? shown(map, centres) : Promise.resolve(null)).then(function (layer) {
          whatIf.removed.forEach(function (closed) {
            var marker = layer && featureOf(layer, closed);
            if (marker && marker.getLatLng) {
              markClosed(marker.getLatLng());
            }
          });
        });
        highlight(record.answer);
        saved.name = record.name;
        saved.opened = record.id;
        render();
      }).catch(function (error) {
        saved.error = "方案操作失败 / Scenario failed: " + error.message;
        render();
      });
    }

    /* The criterion on the printed map, under the title. */
    function printCriterion() {
      var info = document.querySelector(".gs-info");
      var c = state.summary.criterion;
      if (info && !info.querySelector(".gs-print-criterion")) {
        var line = document.createElement("p");
        line.className = "gs-print-only gs-print-criterion";
        line.textContent = "口径：" + c.rule_zh + " / Criterion: " + c.rule_en;
        info.insertBefore(line, info.querySelector(".gs-printed"));
      }
    }

    /* Handouts: print the map; the report (PDF, Excel) of the district, of the community
     * selected or the sub-district filtered, with the scenario opened. */
    function handoutSection() {
      var scope = state.selected ? { id: state.selected, kind: "社区 community" }
        : state.area ? { id: state.area, kind: "片区 area" } : null;
      var query = [];
      if (scope) {
        query.push("area=" + encodeURIComponent(scope.id));
      }
      if (saved.opened) {
        query.push("scenario=" + encodeURIComponent(saved.opened));
      }
      var suffix = query.length ? "?" + query.join("&") : "";
      var what = scope ? scope.kind + " " + (state.areaNames[scope.id] || communityName(scope.id))
        : "全区 district";
      return "<h2>报告 · Handouts</h2><p class=\"gs-report-links\">" +
        '<button type="button" data-print="1">打印地图 Print map</button> ' +
        '<a data-report="pdf" href="' + api + "reports/coverage.pdf" + suffix + '" download>' +
        "报告 PDF</a>" +
        '<a data-report="xlsx" href="' + api + "reports/coverage.xlsx" + suffix + '" download>' +
        "表格 Excel</a>" +
        '<a data-report="html" href="' + api + "reports/coverage.html" + suffix +
        '" target="_blank" rel="noopener">网页 HTML</a><br><small>' + escapeHtml(what) +
        (saved.opened ? " · 方案 scenario " + escapeHtml(saved.opened) : "") + "</small></p>";
    }

    function communityName(id) {
      var found = state.communities.filter(function (c) {
        return String(c.id) === String(id);
      })[0];
      return found ? nameOf(found) : String(id);
    }

    /* What the next proposed centre offers: its level and services (all by default). */
    function offerForm() {
      var levels = (options.levels || []).map(function (t) {
        return '<option value="' + escapeHtml(t.key) + '"' +
          (t.key === offer.level ? " selected" : "") + ">" + escapeHtml(t.zh + " " + t.en) +
          "</option>";
      }).join("");
      var services = (options.services || []).map(function (t) {
        return '<label><input type="checkbox" name="offer-service" value="' +
          escapeHtml(t.key) + '"' + (offer.services.indexOf(t.key) >= 0 ? " checked" : "") +
          "> " + escapeHtml(t.zh + " " + t.en) + "</label>";
      }).join(" ");
      return '<fieldset class="gs-offer"><legend>新中心提供 · The new centre offers</legend>' +
        (levels ? '<label>级别 Level <select name="offer-level">' + levels +
          "</select></label><br>" : "") + services + "</fieldset>";
    }

    /* Each life-circle type whose share or lacking communities change. */
    function typeChanges(result) {
      var rows = (result.types || []).filter(function (t) {
        return t.share_after !== t.share_before ||
          t.areas_lacking_after !== t.areas_lacking_before;
      });
      if (!rows.length) {
        return "";
      }
      var titles = options.types || {};
      return '<table class="gs-whatif-types"><caption>按服务类型（各按其生活圈） · By type, ' +
        "each within its own circle</caption><thead><tr>" +
        '<th scope="col">类型 Type</th><th scope="col">居民 Residents</th>' +
        '<th scope="col">缺项社区 Lacking</th></tr></thead><tbody>' +
        rows.map(function (t) {
          var title = titles[t.type] ? titles[t.type].zh + " " + titles[t.type].en : t.type;
          return '<tr data-type="' + escapeHtml(t.type) + '"><td>' + escapeHtml(title) +
            " (" + t.circle_minutes + " min)</td><td>" + percent(t.share_before) + " → " +
            percent(t.share_after) + "</td><td>" + t.areas_lacking_before + " → " +
            t.areas_lacking_after + "</td></tr>";
        }).join("") + "</tbody></table>";
    }

    function render() {
      box.querySelector(".gs-ws-body").innerHTML =
        headline() + bars() + (state.selected ? cardSection() : "") + whatIfSection() +
        savedSection() + handoutSection() + communityTable() + gapList();
    }

    /* Outline the compounds the change brings within reach (black) or leaves out (red). */
    function highlight(result) {
      var layer = layerById(options.compounds);
      if (!layer) {
        return;
      }
      var gained = {}, lost = {};
      (result ? result.gain.ids : []).forEach(function (id) { gained[id] = true; });
      (result ? result.loss.ids : []).forEach(function (id) { lost[id] = true; });
      layer.eachLayer(function (sub) {
        var id = sub.feature && String(sub.feature.properties.id);
        if (!sub.setStyle) {
          return;
        }
        if (gained[id] || lost[id]) {
          sub.setStyle({ weight: 4, color: gained[id] ? "#000000" : "#d7191c" });
        } else if (layer.resetStyle) {
          layer.resetStyle(sub);
        }
      });
    }

    function runWhatIf() {
      saved.opened = null; /* changed since it was opened */
      whatIf.busy = true;
      whatIf.error = null;
      render();
      var body = {
        add: { type: "FeatureCollection", features: whatIf.added.map(function (geometry, k) {
          return { type: "Feature", id: "NEW-" + (k + 1), properties: whatIf.offers[k] || {},
            geometry: geometry };
        }) },
        remove: whatIf.removed,
      };
      fetch(api + "coverage/scenario", {
        method: "POST",
        headers: { "Content-Type": "application/json", Accept: "application/json" },
        body: JSON.stringify(body),
      })
        .then(function (response) {
          return response.json().then(function (answer) {
            if (!response.ok) {
              throw new Error(answer.description || String(response.status));
            }
            return answer;
          });
        })
        .then(function (answer) {
          whatIf.result = answer;
          highlight(answer);
        })
        .catch(function (error) {
          whatIf.error = "假设计算失败 / What-if failed: " + error.message;
        })
        .then(function () {
          whatIf.busy = false;
          render();
        });
    }

    /* In "add" mode a click anywhere (on the map or on one of its shapes) proposes a site. */
    function propose(event) {
      if (whatIf.mode !== "add" || !event.latlng || event.gsProposed) {
        return;
      }
      event.gsProposed = true;
      var site = { type: "Point", coordinates: [event.latlng.lng, event.latlng.lat] };
      whatIf.added.push(site);
      whatIf.offers.push({ level: offer.level, services: offer.services.slice() });
      markSite(site);
      map.closePopup();
      runWhatIf();
    }
    map.on("click", propose);
    GS.layers.forEach(function (layer) {
      if (layer.gsDefinition.id !== options.centres) {
        layer.on("click", propose);
      }
    });
    var centres = layerById(options.centres);
    if (centres) {
      centres.on("click", function (event) {
        var feature = event.layer && event.layer.feature;
        if (whatIf.mode !== "close" || !feature) {
          return;
        }
        var id = String(feature.id || feature.properties.id);
        if (whatIf.removed.indexOf(id) < 0) {
          whatIf.removed.push(id);
          markClosed(event.layer.getLatLng());
          map.closePopup();
          runWhatIf();
        }
      });
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
      if (target.dataset.whatif === "clear") {
        whatIf = emptyWhatIf();
        saved.opened = null;
        marks.clearLayers();
        highlight(null);
        render();
      } else if (target.dataset.whatif) {
        whatIf.mode = whatIf.mode === target.dataset.whatif ? null : target.dataset.whatif;
        map.getContainer().style.cursor = whatIf.mode === "add" ? "crosshair" : "";
        render();
      } else if (target.dataset.sort) {
        state.ascending = state.sort === target.dataset.sort ? !state.ascending : true;
        state.sort = target.dataset.sort;
        render();
      } else if (target.dataset.community) {
        selectCommunity(target.dataset.community);
      } else if (target.dataset.gap) {
        select(options.gaps, target.dataset.gap);
      } else if (target.dataset.print) {
        window.print();
      } else if (target.dataset.open) {
        openScenario(target.dataset.open);
      } else if (target.dataset.delete) {
        deleteScenario(target.dataset.delete);
      }
    });
    box.addEventListener("submit", function (event) {
      event.preventDefault();
      saveScenario();
    });
    box.addEventListener("input", function (event) {
      if (event.target.name === "scenario-name") {
        saved.name = event.target.value;
      } else if (event.target.name === "api-key") {
        saved.key = event.target.value;
        sessionStorage.setItem("gs-api-key", saved.key);
      }
    });
    box.addEventListener("change", function (event) {
      if (event.target.name === "offer-level") {
        offer.level = event.target.value;
        return;
      }
      if (event.target.name === "offer-service") {
        offer.services = Array.prototype.slice.call(
          box.querySelectorAll("input[name=offer-service]:checked")).map(function (input) {
          return input.value;
        });
        return;
      }
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
    GS.whatIf = function () {
      return whatIf;
    };
  };
})(window);
