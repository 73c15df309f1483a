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

  /* Loading state, for people (a live region) and for tests (data-gs-pending). */
  function setPending(change) {
    pending += change;
    document.body.setAttribute("data-gs-pending", String(pending));
    var status = document.getElementById("gs-status");
    if (status) {
      status.textContent = pending ? "正在加载图层… / Loading layers…" : "";
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

  function symbolOf(def, props) {
    var i = def.classes ? classIndex(def.classes, props[def.classes.property]) : -1;
    return {
      text: (i >= 0 && def.classes.symbols && def.classes.symbols[i]) || def.symbol || "●",
      size: (i >= 0 && def.classes.sizes && def.classes.sizes[i]) || 16,
      colour: colourOf(def, props),
    };
  }

  function symbolHtml(symbol) {
    return (
      '<span class="gs-symbol" aria-hidden="true" style="color:' + symbol.colour +
      ";font-size:" + symbol.size + 'px">' + escapeHtml(symbol.text) + "</span>"
    );
  }

  function featureName(props) {
    if (props.name_zh) {
      return props.name_en ? props.name_zh + " / " + props.name_en : props.name_zh;
    }
    return props.title_zh || props.name || props.id || "";
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
        layer.bindTooltip(escapeHtml(feature.properties[def.tooltip]), { sticky: true });
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

    layer.once("add", function () {
      if (def.data) {
        draw(def.data.features);
        return;
      }
      setPending(1);
      fetchAll(def.url, [])
        .then(draw)
        .catch(function (error) {
          var status = document.getElementById("gs-status");
          if (status) {
            status.textContent = "图层加载失败 / Could not load: " + both(def.title);
          }
          layer.gsError = String(error);
        })
        .then(function () {
          setPending(-1);
        });
    });
    return layer;
  };

  function legendEntries(def) {
    var lines = def.geometry.indexOf("LineString") >= 0;
    var points = def.geometry.indexOf("Point") >= 0;
    function swatch(colour, symbol) {
      if (points) {
        return symbolHtml({ text: symbol || def.symbol || "●", size: 16, colour: colour });
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
  GS.legend = function (map, layers) {
    var control = L.control({ position: "bottomright" });
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
        if (!map.hasLayer(layer) || !def.interactive) {
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

  /* Search our gazetteer (communities, compounds, centres…) and fly to the place. */
  GS.search = function (map, placesUrl, index) {
    var control = new L.Control.Search({
      position: "topleft",
      textPlaceholder: "搜索社区、小区、服务中心 / Search places",
      textErr: "未找到 / Not found",
      textCancel: "取消 / Cancel",
      minLength: 1,
      zoom: 16,
      marker: false,
      autoType: false,
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
    var input = control._input;
    if (input) {
      input.setAttribute("aria-label", "搜索地名 / Search places");
    }
    return control;
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
