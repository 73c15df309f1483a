/* The planner panel's planning (a part of workspace.js). "Where to build": new sites by
 * maximal covering (the most residents for k sites) or set covering (the fewest sites for
 * everyone) from POST /planning/sites — a greedy preview at once, the exact answer on
 * "Solve" — stated in words with its criterion and status, numbered on the map, opened as
 * a what-if (whatif.js) and downloaded as GeoJSON. "Capacity": the centres' capacity per
 * 1,000 residents by E2SFCA (GET /planning/capacity), its decay stated, the compounds
 * coloured by it and the least-served communities listed. */
(function (global) {
  "use strict";
  var GS = global.GeoService;
  var escapeHtml = GS.escapeHtml;

  /* Seconds the exact solve may take (the answer says so when it is reached). */
  var TIME_LIMIT_S = 10;
  /* How many of the least-served communities are listed. */
  var LEAST_SERVED = 5;
  /* Capacity classes, least served first (RdYlBu), and "no centre within reach". */
  var CAPACITY_COLOURS = ["#d7191c", "#fdae61", "#ffffbf", "#abd9e9", "#2c7bb6"];
  var NO_CAPACITY = "#67001f";

  function option(value, text, selected) {
    return '<option value="' + escapeHtml(value) + '"' + (selected ? " selected" : "") + ">" +
      escapeHtml(text) + "</option>";
  }

  function postJson(url, body) {
    return fetch(url, {
      method: "POST",
      headers: { "Content-Type": "application/json", Accept: "application/json" },
      body: JSON.stringify(body),
    });
  }

  /* The API's error ({code, description}) as an Error. */
  function failure(response) {
    return response.json().catch(function () {
      return {};
    }).then(function (answer) {
      throw new Error(answer.description || "HTTP " + response.status);
    });
  }

  /* Class breaks of the positive scores: their quintiles. */
  function quintiles(scores) {
    var positive = scores.filter(function (s) {
      return s > 0;
    }).sort(function (a, b) {
      return a - b;
    });
    if (!positive.length) {
      return [];
    }
    return [0.2, 0.4, 0.6, 0.8].map(function (q) {
      return positive[Math.min(positive.length - 1, Math.floor(q * positive.length))];
    });
  }

  function classOf(breaks, score) {
    if (!(score > 0)) {
      return -1;
    }
    for (var i = 0; i < breaks.length; i++) {
      if (score < breaks[i]) {
        return i;
      }
    }
    return breaks.length;
  }

  GS.workspaceParts.push(function (ws) {
    var api = ws.api, options = ws.options, map = ws.map, state = ws.state, box = ws.box;
    var render = ws.render, getJson = ws.getJson, layerById = ws.layerById, shown = ws.shown;
    var number = GS.workspaceHelpers.number, nameOf = GS.workspaceHelpers.nameOf;
    var siting = { method: "mclp", sites: 5, facilities: "centres", minutes: "", spacing: 200,
      busy: null, body: null, answer: null, error: null, opened: false, request: 0 };
    var capacity = { decay: "step", busy: false, answer: null, breaks: [], error: null,
      request: 0 };
    var siteMarks = L.layerGroup().addTo(map);

    function circles() {
      return Object.keys(state.summary.criterion.circles_m);
    }

    /* "Where to build": the question, the buttons and the answer. */
    function sitingSection() {
      var types = options.types || {};
      var facilities = option("centres", "服务中心 Centres", siting.facilities === "centres") +
        Object.keys(types).map(function (key) {
          return option(key, types[key].zh + " " + types[key].en, siting.facilities === key);
        }).join("");
      var minutes = option("", "默认 Default", siting.minutes === "") +
        circles().map(function (m) {
          return option(m, m + "分钟 " + m + " min", siting.minutes === m);
        }).join("");
      return "<h2>新建选址 · Where to build</h2>" +
        '<div class="gs-siting" role="group" aria-label="选址问题 Siting question">' +
        '<label>方法 Method <select name="siting-method">' +
        option("mclp", "k 个新点覆盖最多居民 · Most residents for k new sites",
          siting.method === "mclp") +
        option("lscp", "最少新点覆盖所有居民 · Fewest sites to cover everyone",
          siting.method === "lscp") + "</select></label>" +
        '<label>新点数 k · New sites <input type="number" name="siting-sites" min="1" ' +
        'max="200" step="1" value="' + escapeHtml(siting.sites) + '"' +
        (siting.method === "lscp" ? " disabled" : "") + "></label>" +
        '<label>设施 Facilities <select name="siting-facilities">' + facilities +
        "</select></label>" +
        '<label>生活圈 Life circle <select name="siting-minutes">' + minutes +
        "</select></label>" +
        '<label>候选点间距 Candidate spacing <input type="number" name="siting-spacing" ' +
        'min="50" max="5000" step="50" value="' + escapeHtml(siting.spacing) + '"> 米 m</label>' +
        '</div><p class="gs-siting-buttons">' +
        '<button type="button" data-siting="preview">预览 Preview</button> ' +
        '<button type="button" data-siting="solve">求解 Solve</button>' +
        (siting.answer ? ' <button type="button" data-siting="clear">清除 Clear</button>' : "") +
        "</p>" + sitingAnswer();
    }

    /* How good the answer is, in Chinese and English. */
    function statusText(answer, body) {
      if (answer.status === "optimal") {
        return { zh: "最优解", en: "optimal" };
      }
      if (answer.status === "time_limit") {
        var gap = answer.gap === null || answer.gap === undefined ? "?"
          : (100 * answer.gap).toFixed(1);
        return { zh: "限时 " + body.time_limit_s + " 秒内的最好解，距最优不超过 " + gap + "%",
          en: "best found in " + body.time_limit_s + " s, within " + gap + "% of optimal" };
      }
      return { zh: "贪心预览，未证明最优", en: "greedy preview" };
    }

    function sitingAnswer() {
      if (siting.busy) {
        return '<p class="gs-siting-answer">' + (siting.busy === "preview"
          ? "预览中… / Previewing…" : "求解中… / Solving…") + "</p>";
      }
      if (siting.error) {
        return '<p role="alert">' + escapeHtml(siting.error) + "</p>";
      }
      var a = siting.answer;
      if (!a) {
        return "";
      }
      var c = a.criterion;
      var count = a.sites.features.length;
      var newly = number(Math.round(a.residents.newly_covered));
      var beyond = Math.round(a.residents.beyond_every_candidate);
      var of = c.facilities.title;
      var metres = number(Math.round(c.distance_m));
      var zh = count + " 个新点使 <strong data-figure=\"siting-newly\">" + newly +
        "</strong> 名今日未覆盖的居民进入" + escapeHtml(of.zh) + "的 " + c.minutes +
        " 分钟生活圈（步行 " + metres + " 米）";
      var en = count + " new sites cover " + newly + " more residents within " + c.minutes +
        " minutes (" + metres + " m on foot) of " + escapeHtml(of.en.toLowerCase());
      if (a.method === "lscp") {
        zh = "覆盖全部所需的最少新点：" + zh;
        en = "The fewest to cover everyone: " + en;
      }
      var status = statusText(a, siting.body);
      var html = '<p class="gs-siting-answer" data-status="' + escapeHtml(a.status) + '">' +
        zh + " — " + escapeHtml(status.zh) + "<br>" + en + " — " + escapeHtml(status.en) +
        "</p>" +
        '<p class="gs-siting-basis">候选点 Candidates: ' + number(a.candidates.count) + " (" +
        escapeHtml(a.candidates.source) + ") · 今日已覆盖 covered today: " +
        number(Math.round(a.residents.covered_today)) + " / " +
        number(Math.round(a.residents.total)) +
        (beyond ? "<br>任何候选点都够不到 beyond every candidate: " + number(beyond) +
          " 人 residents" : "") + "</p>";
      /* Each site (numbered as on the map): the residents not covered today it reaches. */
      html += '<ol class="gs-sites" tabindex="0" aria-label="新点 New sites">' +
        a.sites.features.map(function (site) {
          var p = site.properties;
          return "<li>" + escapeHtml(p.id) + ": 可及今日未覆盖 reaches " +
            number(Math.round(p.reaches_residents)) + " 人 residents, " +
            number(p.reaches_compounds) + " 个小区 compounds</li>";
        }).join("") + "</ol>";
      return html + '<p class="gs-siting-buttons">' +
        (GS.openWhatIf ? '<button type="button" data-siting="whatif">作为假设打开 · Open as ' +
          "what-if</button> " : "") +
        '<button type="button" data-siting="download">下载选址 GeoJSON · Download sites ' +
        "(GeoJSON)</button></p>" +
        (siting.opened ? "<p>已作为假设打开，见上方“假设” · Opened as a what-if above</p>" : "");
    }

    /* The new sites as numbered markers (not Tab stops: the list in the panel has them). */
    function markSites(answer) {
      siteMarks.clearLayers();
      (answer ? answer.sites.features : []).forEach(function (site, k) {
        var c = site.geometry.coordinates;
        L.marker(GS.toMap(c[0], c[1]), {
          icon: L.divIcon({ className: "gs-site-marker", html: String(k + 1),
            iconSize: [24, 24] }),
          interactive: false,
          keyboard: false,
          zIndexOffset: 1000,
        }).addTo(siteMarks);
      });
    }

    function sitingBody(greedy) {
      var body = { method: siting.method, facilities: siting.facilities,
        spacing_m: Number(siting.spacing), greedy: greedy };
      if (siting.method === "mclp") {
        body.sites = Number(siting.sites);
      }
      if (siting.minutes) {
        body.minutes = Number(siting.minutes);
      }
      if (!greedy) {
        body.time_limit_s = TIME_LIMIT_S;
      }
      return body;
    }

    function solve(kind) {
      var body = sitingBody(kind === "preview");
      var request = ++siting.request;
      siting.busy = kind;
      siting.error = null;
      render();
      postJson(api + "planning/sites", body)
        .then(function (response) {
          return response.ok ? response.json() : failure(response);
        })
        .then(function (answer) {
          if (request === siting.request) {
            siting.body = body;
            siting.answer = answer;
            siting.opened = false;
            markSites(answer);
          }
        })
        .catch(function (error) {
          if (request === siting.request) {
            siting.error = "选址失败 / Siting failed: " + error.message;
          }
        })
        .then(function () {
          if (request === siting.request) {
            siting.busy = null;
            render();
          }
        });
    }

    /* The sites of the answer shown, as the API's GeoJSON download (same question). */
    function download() {
      fetch(api + "planning/sites?f=geojson", {
        method: "POST",
        headers: { "Content-Type": "application/json", Accept: "application/geo+json" },
        body: JSON.stringify(siting.body),
      })
        .then(function (response) {
          if (!response.ok) {
            return failure(response);
          }
          var named = /filename="([^"]+)"/.exec(response.headers.get("Content-Disposition") || "");
          return response.blob().then(function (blob) {
            var link = document.createElement("a");
            link.href = URL.createObjectURL(blob);
            link.download = named ? named[1] : "sites.geojson";
            document.body.appendChild(link);
            link.click();
            link.remove();
            setTimeout(function () {
              URL.revokeObjectURL(link.href);
            }, 10000);
          });
        })
        .catch(function (error) {
          siting.error = "下载失败 / Download failed: " + error.message;
          render();
        });
    }

    /* "Capacity": the decay in words, the classes, the least-served communities. */
    function decayText(decay) {
      if (decay.kind === "step") {
        var weights = decay.weights.join(" / ");
        var limits = decay.limits_m.map(function (m) {
          return String(Math.round(m));
        }).join(" / ");
        return "权重 " + weights + "，分别在步行 " + limits + " 米内 · weights " + weights +
          " within " + limits + " m on foot";
      }
      var edge = String(Math.round(decay.catchment_m));
      return "高斯衰减，步行 " + edge + " 米处为 0 · Gaussian decay, 0 at " + edge + " m on foot";
    }

    function capacitySection() {
      var html = "<h2>容量 · Capacity</h2><p class=\"gs-capacity-buttons\">" +
        '<label>距离衰减 Decay <select name="capacity-decay">' +
        option("step", "分级 Step", capacity.decay === "step") +
        option("gaussian", "高斯 Gaussian", capacity.decay === "gaussian") +
        "</select></label> " +
        '<button type="button" data-capacity="show">显示容量 Show capacity</button>' +
        (capacity.answer ? ' <button type="button" data-capacity="clear">清除 Clear</button>'
          : "") + "</p>";
      if (capacity.busy) {
        return html + "<p>载入中… / Loading…</p>";
      }
      if (capacity.error) {
        return html + '<p role="alert">' + escapeHtml(capacity.error) + "</p>";
      }
      var a = capacity.answer;
      if (!a) {
        return html;
      }
      var per = number(a.per_residents);
      var breaks = capacity.breaks;
      var classes = CAPACITY_COLOURS.slice(0, breaks.length + 1).map(function (colour, k) {
        var range = k === breaks.length ? "≥ " + (k ? breaks[k - 1].toFixed(1) : "0")
          : k ? breaks[k - 1].toFixed(1) + " – " + breaks[k].toFixed(1)
            : "低于 below " + breaks[0].toFixed(1);
        return '<li><span class="gs-swatch" style="background:' + colour + '"></span>' +
          range + "</li>";
      });
      classes.unshift('<li><span class="gs-swatch" style="background:' + NO_CAPACITY +
        '"></span>0 无中心可达 · no centre within reach</li>');
      var key = options.communityKey || Object.keys(a.areas)[0];
      var names = {};
      state.communities.forEach(function (c) {
        names[c.id] = nameOf(c);
      });
      var scored = (a.areas[key] || []).filter(function (area) {
        return area.score !== null;
      }).sort(function (x, y) {
        return x.score - y.score || (x.id < y.id ? -1 : x.id > y.id ? 1 : 0);
      });
      var none = scored.filter(function (area) {
        return area.score === 0;
      }).length;
      var least = scored.slice(0, LEAST_SERVED);
      return html + '<p class="gs-capacity-decay">服务中心容量 / 每 ' + per + " 名居民（E2SFCA）；" +
        escapeHtml(decayText(a.decay)) + "<br>Centre capacity per " + per +
        " residents (E2SFCA), along the walking network</p>" +
        "<p>小区按容量着色 · Compounds coloured by capacity:</p>" +
        '<ul class="gs-capacity-classes">' +
        classes.join("") + "</ul>" +
        "<h3>容量最少的社区 · Least served communities</h3>" +
        '<ol class="gs-capacity-least">' + least.map(function (area) {
          return '<li data-area="' + escapeHtml(area.id) + '"><button type="button" ' +
            'data-community="' + escapeHtml(area.id) + '">' +
            escapeHtml(names[area.id] || state.areaNames[area.id] || area.id) + "</button>: " +
            '<span class="gs-capacity-score">' + area.score.toFixed(1) + "</span> / " + per +
            " 人 residents</li>";
        }).join("") + "</ol>" + (none > LEAST_SERVED ? '<p class="gs-capacity-none">共 ' + none +
          " 个社区无中心可达 · " + none + " communities have no centre within reach</p>" : "");
    }

    /* Colour the compounds by their score (fill only: a what-if's outlines stay). */
    function colourCompounds(answer) {
      var layer = layerById(options.compounds);
      if (!layer) {
        return Promise.resolve();
      }
      return shown(map, layer).then(function () {
        var scores = {};
        (answer ? answer.compounds : []).forEach(function (c) {
          scores[c.id] = c.score;
        });
        layer.eachLayer(function (sub) {
          if (!sub.setStyle || !sub.feature) {
            return;
          }
          var base = layer.options.style(sub.feature);
          var score = scores[String(sub.feature.properties.id)];
          if (!answer || score === undefined) {
            sub.setStyle({ fillColor: base.fillColor, fillOpacity: base.fillOpacity });
            return;
          }
          var k = classOf(capacity.breaks, score);
          sub.setStyle({ fillColor: k < 0 ? NO_CAPACITY : CAPACITY_COLOURS[k],
            fillOpacity: 0.85 });
        });
      });
    }

    function loadCapacity() {
      var request = ++capacity.request;
      capacity.busy = true;
      capacity.error = null;
      render();
      getJson(api + "planning/capacity?decay=" + encodeURIComponent(capacity.decay))
        .then(function (answer) {
          if (request !== capacity.request) {
            return null;
          }
          capacity.answer = answer;
          capacity.breaks = quintiles(answer.compounds.map(function (c) {
            return c.score;
          }));
          return colourCompounds(answer);
        })
        .catch(function (error) {
          if (request === capacity.request) {
            capacity.error = "容量加载失败 / Could not load capacity: " + error.message;
          }
        })
        .then(function () {
          if (request === capacity.request) {
            capacity.busy = false;
            render();
          }
        });
    }

    GS.siting = function () {
      return { body: siting.body, answer: siting.answer };
    };

    return {
      html: function () {
        return sitingSection() + capacitySection();
      },
      click: function (target) {
        var action = target.dataset.siting;
        if (action === "preview" || action === "solve") {
          solve(action);
        } else if (action === "clear") {
          siting.request += 1;
          siting.answer = siting.body = siting.error = null;
          siting.busy = null;
          markSites(null);
          render();
        } else if (action === "whatif") {
          siting.opened = true;
          GS.openWhatIf(siting.answer.scenario);
        } else if (action === "download") {
          download();
        } else if (target.dataset.capacity === "show") {
          loadCapacity();
        } else if (target.dataset.capacity === "clear") {
          capacity.request += 1;
          capacity.answer = capacity.error = null;
          capacity.busy = false;
          colourCompounds(null);
          render();
        }
      },
      input: function (event) {
        var name = event.target.name;
        if (name === "siting-sites") {
          siting.sites = event.target.value;
        } else if (name === "siting-spacing") {
          siting.spacing = event.target.value;
        }
      },
      change: function (event) {
        var name = event.target.name;
        if (name === "siting-method") {
          siting.method = event.target.value;
          render(); /* k applies to maximal covering only */
        } else if (name === "siting-facilities") {
          siting.facilities = event.target.value;
        } else if (name === "siting-minutes") {
          siting.minutes = event.target.value;
        } else if (name === "capacity-decay") {
          capacity.decay = event.target.value;
          if (capacity.answer) {
            loadCapacity();
          }
        }
      },
    };
  });
})(window);
