/* The planner panel's what-if (a part of workspace.js): propose centres by clicking the map
 * (with the level and services they offer) or close centres by clicking them; before and
 * after, the compounds gained and lost outlined, the communities and life-circle types
 * that change. Named scenarios: save (a staff key asked for on 401), list, open, delete. */
(function (global) {
  "use strict";
  var GS = global.GeoService;
  var escapeHtml = GS.escapeHtml;

  function emptyWhatIf() {
    return { mode: null, added: [], offers: [], removed: [], result: null, error: null,
      busy: false };
  }

  GS.workspaceParts.push(function (ws) {
    var api = ws.api, options = ws.options, map = ws.map, state = ws.state, box = ws.box;
    var render = ws.render, getJson = ws.getJson, layerById = ws.layerById;
    var shown = ws.shown, featureOf = ws.featureOf;
    var percent = GS.workspaceHelpers.percent, number = GS.workspaceHelpers.number;
    var nameOf = GS.workspaceHelpers.nameOf;
    var whatIf = emptyWhatIf();
    /* Each what-if answer asked for (a site added, a centre closed, a scenario opened)
       takes a number; a change or Clear since makes it stale, and its answer is dropped
       (answers can come back out of order). */
    var whatIfRequest = 0;
    var answered = 0; /* answers come in, the latest's or not */
    var levelKeys = (options.levels || []).map(function (t) { return t.key; });
    var offer = { level: levelKeys[levelKeys.length - 1] || null,
      services: (options.services || []).map(function (t) { return t.key; }) };
    var saved = { list: null, name: "", key: sessionStorage.getItem("gs-api-key") || "",
      needKey: false, error: null };
    var marks = L.layerGroup().addTo(map); /* proposed sites, closed centres */

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
      if (!saved.list) {
        return html + "<p>载入方案… · Loading saved scenarios…</p>";
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
      }, function (error) {
        saved.list = saved.list || [];
        saved.error = "方案列表载入失败 / Could not list the saved scenarios: " + error.message;
      }).then(function () {
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
      var request = whatIfRequest; /* the what-if saved: its answer is kept if still shown */
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
          if (request === whatIfRequest) {
            whatIf.result = record.answer;
          }
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
      var request = ++whatIfRequest;
      getJson(api + "scenarios/" + encodeURIComponent(id)).then(function (record) {
        if (request !== whatIfRequest) {
          return;
        }
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
        markChange();
        highlight(record.answer);
        saved.name = record.name;
        state.scenario = record.id;
        render();
      }).catch(function (error) {
        if (request !== whatIfRequest) {
          return;
        }
        saved.error = "方案操作失败 / Scenario failed: " + error.message;
        if (whatIf.busy) {
          runWhatIf(); /* the what-if this open made stale: asked again, it stays shown */
          return;
        }
        render();
      });
    }

    /* The proposed sites and the closed centres of the what-if, on the map. */
    function markChange() {
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
      var request = ++whatIfRequest;
      function latest() {
        return request === whatIfRequest;
      }
      state.scenario = null; /* changed since it was opened */
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
          if (latest()) {
            whatIf.result = answer;
            highlight(answer);
          }
        })
        .catch(function (error) {
          if (latest()) {
            whatIf.error = "假设计算失败 / What-if failed: " + error.message;
          }
        })
        .then(function () {
          answered++;
          if (latest()) {
            whatIf.busy = false;
            render();
          }
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

    GS.whatIf = function () {
      return whatIf;
    };
    GS.whatIfAnswered = function () {
      return answered;
    };
    /* Open a what-if body (``POST /coverage/scenario``: {add, remove}) made elsewhere — the
     * sites of "Where to build" (planning.js) — and answer it. */
    GS.openWhatIf = function (scenario) {
      marks.clearLayers();
      whatIf = emptyWhatIf();
      whatIf.added = scenario.add.features.map(function (f) {
        return f.geometry;
      });
      whatIf.offers = scenario.add.features.map(function (f) {
        return f.properties || {};
      });
      whatIf.removed = (scenario.remove || []).slice();
      markChange();
      runWhatIf();
    };

    return {
      ready: loadScenarios,
      html: function () {
        return whatIfSection() + savedSection();
      },
      click: function (target) {
        if (target.dataset.whatif === "clear") {
          whatIfRequest++; /* an answer still under way is for what was cleared */
          whatIf = emptyWhatIf();
          state.scenario = null;
          marks.clearLayers();
          highlight(null);
          render();
        } else if (target.dataset.whatif) {
          whatIf.mode = whatIf.mode === target.dataset.whatif ? null : target.dataset.whatif;
          map.getContainer().style.cursor = whatIf.mode === "add" ? "crosshair" : "";
          render();
        } else if (target.dataset.open) {
          openScenario(target.dataset.open);
        } else if (target.dataset.delete) {
          deleteScenario(target.dataset.delete);
        }
      },
      submit: function () {
        saveScenario();
      },
      input: function (event) {
        if (event.target.name === "scenario-name") {
          saved.name = event.target.value;
        } else if (event.target.name === "api-key") {
          saved.key = event.target.value;
          sessionStorage.setItem("gs-api-key", saved.key);
        }
      },
      change: function (event) {
        if (event.target.name === "offer-level") {
          offer.level = event.target.value;
        } else if (event.target.name === "offer-service") {
          offer.services = Array.prototype.slice.call(
            box.querySelectorAll("input[name=offer-service]:checked")).map(function (input) {
            return input.value;
          });
        }
      },
    };
  });
})(window);
