/* geo_service map pages: a catalog layer drawn from our API (or inlined in a standalone
 * file) with its style, classes, marker shapes, popups and tooltips in Chinese and
 * English. Reads the layer descriptions built by geo_service/maps/client_layers.py. */
(function (global) {
  "use strict";
  var GS = global.GeoService;
  var escapeHtml = GS.escapeHtml;
  var both = GS.both;
  var setPending = GS.setPending;
  var setStatus = GS.setStatus;

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
      return props.name_en && props.name_en !== props.name_zh
        ? props.name_zh + " / " + props.name_en
        : props.name_zh;
    }
    if (props.name || props.name_en) {
      return props.name || props.name_en;
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
        /* Not a Tab stop each: the keyboard route to places is the search and the
         * summary panel's tables (92 centres would stand between a user and them). */
        keyboard: false,
        interactive: def.interactive,
      });
    };
  }
  /* One catalog layer as a Leaflet layer; its features load the first time it is shown. */
  /* Lines and areas drawn in the map definition's order, whatever order they loaded in:
   * a compound above the service circle it lies in takes the click. (Tiled layers keep
   * their own stacking, in their pane: see tiled.js.) */
  function stackInOrder() {
    GS.layers.forEach(function (layer) {
      var def = layer.gsDefinition;
      if (layer._map && layer.gsLoaded && !def.cluster && !def.tiles && layer.bringToFront) {
        layer.bringToFront();
      }
    });
  }

  GS.layer = function (def) {
    if (def.tiles) {
      return GS.tiledLayer(def);
    }
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
      layer.gsLoaded = true; /* also when the layer is empty (no gaps, no parks) */
      stackInOrder();
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
      GS.fetchAll(def.url)
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
  GS.symbolHtml = symbolHtml;
  GS.pathStyle = pathStyle;
  GS.popupHtml = popupHtml;
  GS.featureName = featureName;
  GS.stackInOrder = stackInOrder;
})(window);
