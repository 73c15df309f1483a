/* geo_service map pages: the legend of the layers on the map, the place search and the
 * page's furniture (scale, heading, synthetic-data notice, labelled controls). */
(function (global) {
  "use strict";
  var GS = global.GeoService;
  var escapeHtml = GS.escapeHtml;
  var both = GS.both;
  var symbolHtml = GS.symbolHtml;
  var setStatus = GS.setStatus;

  function legendEntries(def) {
    var lines = def.geometry.indexOf("LineString") >= 0;
    var points = def.geometry.indexOf("Point") >= 0;
    function swatch(colour, symbol) {
      if (points) {
        return symbolHtml({ shape: symbol || def.symbol || "circle", size: 16, colour: colour });
      }
      var style = lines
        ? "border-top:3px solid " + colour
        : "background:" + (def.fill ? colour : "transparent") + ";border:2px solid " +
          (def.classes ? "#555" : def.style.color);
      return '<span class="gs-swatch" aria-hidden="true" style="' + style + '"></span>';
    }
    if (!def.classes) {
      return [swatch(def.style.fillColor) + escapeHtml(both(def.title))];
    }
    var entries = def.classes.labels.map(function (label, i) {
      var symbol = def.classes.symbols ? def.classes.symbols[i] : null;
      return swatch(def.classes.colors[i], symbol) + escapeHtml(both(label));
    });
    if (def.classes.missing) {
      entries.push(swatch("#bdbdbd") + escapeHtml(both(def.classes.missing)));
    }
    return entries;
  }

  /* A legend of the layers on the map, redrawn when one is switched on or off. */
  GS.legend = function (map, layers, position) {
    var control = L.control({ position: position || "bottomright" });
    control.onAdd = function () {
      var box = L.DomUtil.create("details", "gs-legend leaflet-control");
      box.open = window.innerWidth > 900 && window.innerHeight > 700;
      box.setAttribute("aria-label", "图例 / Legend");
      L.DomEvent.disableClickPropagation(box);
      L.DomEvent.disableScrollPropagation(box);
      control.box = box;
      return box;
    };
    control.redraw = function () {
      var html = ["<summary>图例 / Legend</summary>"];
      layers.forEach(function (layer) {
        var def = layer.gsDefinition;
        if (!map.hasLayer(layer)) {
          return;
        }
        var items = legendEntries(def).map(function (entry) {
          return "<li>" + entry + "</li>";
        });
        var heading = def.classes ? "<h2>" + escapeHtml(both(def.title)) + "</h2>" : "";
        html.push(
          '<section data-layer="' + def.id + '">' + heading + "<ul>" + items.join("") +
          "</ul>" + zoomInNote(map, def) + "</section>"
        );
      });
      control.box.innerHTML = html.join("");
    };
    control.addTo(map);
    control.redraw();
    map.on("overlayadd overlayremove zoomend", function () {
      control.redraw();
    });
    L.DomEvent.on(control.box, "click", function (event) {
      var level = event.target.getAttribute && event.target.getAttribute("data-zoom-to");
      if (level) {
        map.setZoom(Number(level));
      }
    });
    return control;
  };

  /* A tiled layer zoomed out below the level it draws from: say so, with a button there. */
  function zoomInNote(map, def) {
    if (!def.tiles || Math.round(map.getZoom()) >= (def.tilesMinZoom || 0)) {
      return "";
    }
    return '<p class="gs-zoom-in">' + escapeHtml(def.title.zh) + "：放大后显示 / " +
      escapeHtml(def.title.en) + ": shown when zoomed in " +
      '<button type="button" data-zoom-to="' + def.tilesMinZoom + '">放大 Zoom in</button></p>';
  }

  /* leaflet-search, made safe and keyboard-friendly: tips are text (never HTML), and the
   * Enter that opened the box does not close it again. */
  var SafeSearch = null;
  function searchControlClass() {
    if (!SafeSearch) {
      SafeSearch = L.Control.Search.extend({
        _handleKeypress: function (event) {
          if (event.keyCode === 13 && !this._input.value) {
            return;
          }
          L.Control.Search.prototype._handleKeypress.call(this, event);
        },
      });
    }
    return SafeSearch;
  }

  /* Search our gazetteer (communities, compounds, centres…) and fly to the place. */
  GS.search = function (map, placesUrl, index) {
    var Search = searchControlClass();
    var places = {}; /* title shown → the place (layer and feature id) */
    var control = new Search({
      position: "topleft",
      textPlaceholder: "搜索社区、小区、服务中心 / Search places",
      textErr: "未找到 / Not found",
      textCancel: "取消 / Cancel",
      minLength: 1,
      zoom: 16,
      marker: false,
      autoType: false,
      buildTip: function (text) {
        var tip = document.createElement("li");
        tip.textContent = text;
        return tip;
      },
      filterData: function (text, records) {
        return records;
      },
      sourceData: function (text, respond) {
        /* The tips shown say which text they answer (data-query on the control). */
        function show(features) {
          respond(features);
          control._container.setAttribute("data-query", text);
        }
        if (index) {
          show(GS.searchIndex(index, text));
          return { abort: function () {} };
        }
        /* The control aborts the search before each new one: an answer to an earlier,
           shorter text (often the slower) never replaces the later one's tips. */
        var request = new AbortController();
        fetch(placesUrl + "?limit=10&q=" + encodeURIComponent(text), { signal: request.signal })
          .then(function (response) {
            return response.ok ? response.json() : { features: [] };
          })
          .catch(function () {
            if (!request.signal.aborted) {
              setStatus("搜索失败 / Search failed");
            }
            return { features: [] };
          })
          .then(function (collection) {
            if (!request.signal.aborted) {
              show(collection.features);
            }
          });
        return {
          abort: function () {
            request.abort();
          },
        };
      },
      formatData: function (features) {
        var records = {};
        features.forEach(function (feature) {
          var p = feature.properties;
          var c = feature.geometry.coordinates;
          records[p.name_zh + " " + p.name_en] = GS.toMap(c[0], c[1]);
          places[p.name_zh + " " + p.name_en] = p;
        });
        return records;
      },
    });
    map.addControl(control);
    /* A community found opens its card: outline, coverage and the row in the summary. */
    control.on("search:locationfound", function (event) {
      var place = places[event.text];
      if (place && place.layer === "communities" && GS.selectCommunity) {
        GS.selectCommunity(place.feature_id);
      }
    });
    control._input.setAttribute("aria-label", "搜索地名 / Search places");
    control._button.setAttribute("role", "button");
    control._button.setAttribute("aria-label", "搜索地名 / Search places");
    return control;
  };

  function label(selector, text) {
    document.querySelectorAll(selector).forEach(function (node) {
      node.title = text;
      node.setAttribute("aria-label", text);
    });
  }

  /* A map page's furniture: scale, heading with the synthetic-data notice, legend, search;
   * Leaflet's own controls labelled in Chinese and English and first in keyboard order. */
  GS.furnish = function (map, options) {
    var narrow = window.innerWidth < 600;
    L.control.scale({ imperial: false }).addTo(map);
    var info = L.control({ position: narrow ? "bottomleft" : "topright" });
    info.onAdd = function () {
      var box = L.DomUtil.create("div", "gs-info leaflet-control");
      box.innerHTML = options.info;
      L.DomEvent.disableClickPropagation(box);
      return box;
    };
    info.addTo(map);
    GS.legend(map, options.layers, narrow ? "bottomright" : "bottomleft");
    GS.northArrow(map);
    GS.printable(map);
    if (options.search) {
      GS.search(map, options.placesUrl, options.index);
    }
    label(".leaflet-control-zoom-in", "放大 / Zoom in");
    label(".leaflet-control-zoom-out", "缩小 / Zoom out");
    label(".leaflet-control-layers-toggle", "图层 / Layers");
    /* Controls are positioned absolutely: moving them first changes only the Tab order. */
    map.getContainer().insertBefore(map._controlContainer, map.getContainer().firstChild);
  };

  /* A north arrow (the map is in Web Mercator: north is up everywhere on it). */
  GS.northArrow = function (map) {
    var arrow = L.control({ position: "bottomright" });
    arrow.onAdd = function () {
      var box = L.DomUtil.create("div", "gs-north leaflet-control");
      box.setAttribute("role", "img");
      box.setAttribute("aria-label", "北 / North");
      box.innerHTML = '<svg viewBox="0 0 20 30" width="20" height="30" aria-hidden="true">' +
        '<path d="M10 0 L18 24 L10 19 L2 24 Z" fill="#222"/></svg><span>N 北</span>';
      return box;
    };
    arrow.addTo(map);
  };

  /* Printing: the legend opened, the date printed filled in (the print style sheet hides
   * the controls and keeps title, notice, criterion, legend, scale and north arrow). */
  GS.printable = function (map) {
    var opened = [];
    window.addEventListener("beforeprint", function () {
      document.querySelectorAll("details.gs-legend").forEach(function (box) {
        if (!box.open) {
          box.open = true;
          opened.push(box);
        }
      });
      document.querySelectorAll(".gs-printed").forEach(function (line) {
        line.textContent = "打印于 Printed " + new Date().toLocaleString("zh-CN", { hour12: false });
      });
      map.invalidateSize();
    });
    window.addEventListener("afterprint", function () {
      opened.splice(0).forEach(function (box) {
        box.open = false;
      });
      map.invalidateSize();
    });
  };

  /* The standalone file's search: the inlined gazetteer, matched by name, other name
   * (alias) or pinyin. */
  GS.searchIndex = function (index, text) {
    var query = text.toLowerCase().replace(/\s+/g, "");
    return index.features
      .filter(function (f) {
        var p = f.properties;
        var names = [p.name_zh, p.name_en, p.pinyin || "", p.initials || ""];
        return names.concat(p.aliases || []).some(function (name) {
          return name.toLowerCase().replace(/\s+/g, "").indexOf(query) >= 0;
        });
      })
      .slice(0, 10);
  };
})(window);
