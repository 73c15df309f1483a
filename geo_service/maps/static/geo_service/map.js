/* geo_service map pages: catalog layers loaded from our API (or inlined in a standalone
 * file) and drawn with their styles, popups in Chinese and English, a legend of the layers
 * on the map, the synthetic-data notice and the place search.
 * Reads the layer descriptions built by geo_service/maps/client_layers.py. */
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
  /* WGS 84 lon/lat → GCJ-02 lon/lat (the same formula as geo_service/crs.py). */
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
    return text
      .split(/\s*;\s*/)
      .map(function (rule) {
        return rule
          .replace(/\b(Mo|Tu|We|Th|Fr|Sa|Su|PH|off)\b/g, function (day) {
            return days[day];
          })
          .replace(/([一二三四五六日]|[a-z])-(周|[A-Z])/g, lang === "zh" ? "$1至$2" : "$1–$2")
          .replace(/(\d\d:\d\d)-(\d\d:\d\d)/g, "$1–$2");
      })
      .join(lang === "zh" ? "；" : "; ");
  };

  function classIndex(classes, value) {
    if (value === null || value === undefined || value === "") {
      return -1;
    }
    if (classes.values) {
      return classes.values.map(String).indexOf(String(value));
    }
    for (var i = 0; i < classes.breaks.length; i++) {
      if (value <= classes.breaks[i]) {
        return i;
      }
    }
    return classes.breaks.length;
  }

  function colourOf(def, props) {
    if (!def.classes) {
      return def.style.fillColor;
    }
    var i = classIndex(def.classes, props[def.classes.property]);
    return i < 0 ? "#bdbdbd" : def.classes.colors[i];
  }

  function pathStyle(def) {
    return function (feature) {
      var lines = def.geometry.indexOf("LineString") >= 0;
      var colour = colourOf(def, feature.properties);
      return {
        color: def.classes && !lines ? "#555555" : def.classes ? colour : def.style.color,
        weight: def.classes && !lines ? 0.6 : def.style.weight,
        fill: def.fill && !lines,
        fillColor: colour,
        fillOpacity: def.style.fillOpacity,
      };
    };
  }

  /* Marker shapes as SVG (no icon font needed), in a 20 × 20 box. */
  var SHAPES = {
    circle: '<circle cx="10" cy="10" r="8"/>',
    square: '<rect x="3" y="3" width="14" height="14"/>',
    diamond: '<path d="M10 1 19 10 10 19 1 10Z"/>',
    triangle: '<path d="M10 2 19 18H1Z"/>',
    star: '<path d="M10 1l2.6 6 6.4.6-4.9 4.3 1.5 6.3L10 14.9 4.4 18.2l1.5-6.3L1 7.6l6.4-.6Z"/>',
  };

  function symbolOf(def, props) {
    var i = def.classes ? classIndex(def.classes, props[def.classes.property]) : -1;
    return {
      shape: (i >= 0 && def.classes.symbols && def.classes.symbols[i]) || def.symbol || "circle",
      size: (i >= 0 && def.classes.sizes && def.classes.sizes[i]) || 16,
      colour: colourOf(def, props),
    };
  }

  function symbolHtml(symbol) {
    return (
      '<svg class="gs-symbol" aria-hidden="true" focusable="false" viewBox="0 0 20 20" width="' +
      symbol.size + '" height="' + symbol.size + '" fill="' + symbol.colour +
      '" stroke="#ffffff" stroke-width="1.5">' + (SHAPES[symbol.shape] || SHAPES.circle) +
      "</svg>"
    );
  }

  function featureName(props) {
    if (props.name_zh) {
      return props.name_en ? props.name_zh + " / " + props.name_en : props.name_zh;
    }
    if (props.title_zh) {
      return props.title_en ? props.title_zh + " / " + props.title_en : props.title_zh;
    }
    return props.name || props.id || "";
  }

  function formatNumber(value) {
    return Number(value).toLocaleString("zh-CN", { maximumFractionDigits: 2 });
  }

  function formatValue(def, field, value) {
    if (value === null || value === undefined || value === "") {
      return "—";
    }
    var labels = def.valueLabels[field.name];
    if (field.separator || labels) {
      var items = field.separator ? String(value).split(field.separator) : [value];
      return items
        .filter(function (item) {
          return item !== "";
        })
        .map(function (item) {
          return labels && labels[item] ? both(labels[item]) : item;
        })
        .join("；");
    }
    if (field.format === "opening_hours") {
      return GS.formatHours(String(value), "zh") + " / " + GS.formatHours(String(value), "en");
    }
    if (field.type === "boolean") {
      return value ? "是 / yes" : "否 / no";
    }
    if (field.unit === "share 0-1") {
      return (value * 100).toFixed(1) + "%";
    }
    if (typeof value === "number") {
      var unit = { persons: " 人", households: " 户", min: " 分钟 min", m: " m" }[field.unit];
      return formatNumber(value) + (unit || (field.unit ? " " + field.unit : ""));
    }
    return String(value);
  }

  function popupHtml(def, props) {
    var rows = def.popup
      .filter(function (field) {
        return ["name_zh", "name_en", "title_zh", "title_en"].indexOf(field.name) < 0;
      })
      .map(function (field) {
        return (
          "<tr><th scope=\"row\">" + escapeHtml(both(field.label)) + "</th><td>" +
          escapeHtml(formatValue(def, field, props[field.name])) + "</td></tr>"
        );
      });
    return (
      '<div class="gs-popup"><h3>' + escapeHtml(featureName(props)) + "</h3>" +
      '<p class="gs-popup-layer">' + escapeHtml(both(def.title)) + "</p>" +
      "<table>" + rows.join("") + "</table></div>"
    );
  }

  function bindFeature(def) {
    return function (feature, layer) {
      if (!def.interactive) {
        return;
      }
      if (def.popup.length) {
        layer.bindPopup(function () {
          return popupHtml(def, feature.properties);
        });
      }
      if (def.tooltip && feature.properties[def.tooltip]) {
        var bilingual = /_zh$/.test(def.tooltip) ? featureName(feature.properties) : null;
        layer.bindTooltip(escapeHtml(bilingual || feature.properties[def.tooltip]), {
          sticky: true,
        });
      }
    };
  }

  function pointToLayer(def) {
    return function (feature, latlng) {
      var symbol = symbolOf(def, feature.properties);
      var name = featureName(feature.properties);
      return L.marker(latlng, {
        icon: L.divIcon({
          className: "gs-marker",
          html: symbolHtml(symbol),
          iconSize: [symbol.size, symbol.size],
        }),
        title: name,
        alt: name,
        keyboard: def.interactive,
        interactive: def.interactive,
      });
    };
  }

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

  /* One catalog layer as a Leaflet layer; its features load the first time it is shown. */
  GS.layer = function (def) {
    var geojson = L.geoJSON(null, {
      style: pathStyle(def),
      pointToLayer: pointToLayer(def),
      onEachFeature: bindFeature(def),
      interactive: def.interactive,
      coordsToLatLng: function (coords) {
        return GS.toMap(coords[0], coords[1]);
      },
    });
    var layer = def.cluster
      ? L.markerClusterGroup({ disableClusteringAtZoom: 15, maxClusterRadius: 40 })
      : geojson;
    layer.gsDefinition = def;
    layer.gsFeatureCount = 0;
    GS.layers.push(layer);

    function draw(features) {
      if (def.classes && def.classes.values) {
        /* Draw in the order of the classes (the widest circle first, under the others). */
        features = features.slice().sort(function (a, b) {
          var key = def.classes.property;
          return (
            classIndex(def.classes, a.properties[key]) - classIndex(def.classes, b.properties[key])
          );
        });
      }
      geojson.addData({ type: "FeatureCollection", features: features });
      if (def.cluster) {
        layer.addLayers(geojson.getLayers());
      }
      layer.gsFeatureCount = features.length;
      layer.fire("gs:loaded", { count: features.length });
    }

    var state = "new";
    layer.on("add", function () {
      if (state !== "new") {
        return; /* loading or loaded; after a failure "new" again, so showing it retries */
      }
      if (def.data) {
        state = "loaded";
        draw(def.data.features);
        return;
      }
      state = "loading";
      setPending(1);
      fetchAll(def.url, [])
        .then(function (features) {
          state = "loaded";
          layer.gsError = null;
          setPending(-1);
          draw(features);
        })
        .catch(function (error) {
          state = "new";
          layer.gsError = String(error);
          setPending(-1);
          setStatus("图层加载失败，请重新打开该图层 / Could not load " + def.title.en +
            ": switch it off and on to retry");
        });
    });
    return layer;
  };

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
          "</ul></section>"
        );
      });
      control.box.innerHTML = html.join("");
    };
    control.addTo(map);
    control.redraw();
    map.on("overlayadd overlayremove", function () {
      control.redraw();
    });
    return control;
  };

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
        if (index) {
          respond(GS.searchIndex(index, text));
          return { abort: function () {} };
        }
        fetch(placesUrl + "?limit=10&q=" + encodeURIComponent(text))
          .then(function (response) {
            return response.ok ? response.json() : { features: [] };
          })
          .catch(function () {
            setStatus("搜索失败 / Search failed");
            return { features: [] };
          })
          .then(function (collection) {
            respond(collection.features);
          });
        return { abort: function () {} };
      },
      formatData: function (features) {
        var records = {};
        features.forEach(function (feature) {
          var p = feature.properties;
          var c = feature.geometry.coordinates;
          records[p.name_zh + " " + p.name_en] = GS.toMap(c[0], c[1]);
        });
        return records;
      },
    });
    map.addControl(control);
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
    if (options.search) {
      GS.search(map, options.placesUrl, options.index);
    }
    label(".leaflet-control-zoom-in", "放大 / Zoom in");
    label(".leaflet-control-zoom-out", "缩小 / Zoom out");
    label(".leaflet-control-layers-toggle", "图层 / Layers");
    /* Controls are positioned absolutely: moving them first changes only the Tab order. */
    map.getContainer().insertBefore(map._controlContainer, map.getContainer().firstChild);
  };

  /* The standalone file's search: the inlined gazetteer, matched by name or pinyin. */
  GS.searchIndex = function (index, text) {
    var query = text.toLowerCase().replace(/\s+/g, "");
    return index.features
      .filter(function (f) {
        var p = f.properties;
        return [p.name_zh, p.name_en.toLowerCase(), p.pinyin || "", p.initials || ""].some(
          function (name) {
            return name.replace(/\s+/g, "").indexOf(query) >= 0;
          }
        );
      })
      .slice(0, 10);
  };
})(window);
