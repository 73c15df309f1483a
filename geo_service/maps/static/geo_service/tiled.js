/* geo_service map pages: a catalog layer drawn from the API's vector tiles
 * (Leaflet.VectorGrid), for layers too big to load whole. Same styles, classes and popups
 * as layers.js; what the panels need of a layer (eachLayer, setStyle, resetStyle,
 * gsLoaded, gsFeatureCount) works on the features of the tiles loaded so far. Below the
 * zoom level the page gives it (def.tilesMinZoom: where no tile holds too many features
 * to draw quickly) the layer loads nothing and says so: gsZoomIn, and the legend asks the
 * user to zoom in. */
(function (global) {
  "use strict";
  var GS = global.GeoService;

  /* Leaflet 1.8 dropped L.DomEvent.fakeStop, which VectorGrid 1.3 calls on a click;
   * this is what it did (the map then ignores the click the feature took). */
  if (!L.DomEvent.fakeStop) {
    L.DomEvent.fakeStop = function (event) {
      event._stopped = true;
    };
  }

  /* Tiled layers draw above the other lines and areas (overlayPane, 400), below markers
   * (600): a compound over the service circle it lies in takes the click. */
  var TILES_PANE = "gsTiles";

  /* The feature of a tiled layer drawn at latlng (the last drawn, as on the canvas), or
   * null: found in the loaded tile under the point, in that tile's pixels. */
  function featureAt(layer, latlng) {
    var map = layer._map;
    var zoom = layer._tileZoom;
    if (!map || layer.gsZoomIn || zoom === undefined) {
      return null;
    }
    var size = layer.getTileSize();
    var pixel = map.project(latlng, zoom);
    var coords = pixel.unscaleBy(size).floor();
    coords.z = zoom;
    var tile = (layer._vectorTiles || {})[layer._tileCoordsToKey(coords)];
    if (!tile) {
      return null;
    }
    var point = pixel.subtract(coords.scaleBy(size));
    var found = null;
    Object.keys(tile._layers || {}).forEach(function (id) {
      var drawn = tile._layers[id];
      if (!drawn._pxBounds && drawn.makeInteractive) {
        drawn.makeInteractive(); // its pixel bounds, which VectorGrid skips for non-interactive tiles
      }
      if (drawn._pxBounds && drawn._containsPoint(point)) {
        found = drawn;
      }
    });
    return found;
  }

  /* The topmost tiled feature at a mouse event's point: {layer, feature}, or null. The
   * map definition's order is the stacking order (a compound over the circle it lies in). */
  function topFeatureAt(map, latlng) {
    var top = null;
    GS.layers.forEach(function (layer, index) {
      var def = layer.gsDefinition;
      if (def.tiles && def.interactive && layer._map === map) {
        var drawn = featureAt(layer, latlng);
        if (drawn) {
          top = { index: index, layer: layer, drawn: drawn };
        }
      }
    });
    return top;
  }

  /* The map-definition index of the layer an element under the tiles belongs to (an area
   * or line of a GeoJSON layer), or -1. */
  function indexOfElement(map, element) {
    var path = (map._targets || {})[element._leaflet_id];
    if (!path) {
      return -1;
    }
    for (var i = GS.layers.length - 1; i >= 0; i -= 1) {
      if (GS.layers[i].hasLayer && GS.layers[i].hasLayer(path)) {
        return i;
      }
    }
    return -1;
  }

  /* VectorGrid gives each tile of each layer its own canvas, and the topmost canvas
   * takes every click on its tile, whether it drew something there or not: a click on a
   * compound could reach the circle drawn over it, and nothing reached the areas under
   * the tiles. So the tiles take no pointer events, and one listener on the map's
   * container, before anything else hears the click, finds the topmost tiled feature at
   * the point; if it lies above what the click hit (the map, or an area of a GeoJSON
   * layer earlier in the definition), its layer fires the click, with the feature as
   * event.layer.feature, and nothing else hears it. Markers, popups and controls are
   * above the tiles and keep their clicks. The pointer shows a hand over tiled features. */
  function listenForClicks(map) {
    if (map.gsTiledClicks) {
      return;
    }
    map.gsTiledClicks = true;
    var container = map.getContainer();
    var above = ".leaflet-marker-pane, .leaflet-popup-pane, .leaflet-tooltip-pane, " +
      ".leaflet-control-container";
    container.addEventListener(
      "click",
      function (event) {
        if (event.target.closest(above) || map.dragging && map.dragging.moved()) {
          return;
        }
        var latlng = map.mouseEventToLatLng(event);
        var top = topFeatureAt(map, latlng);
        if (!top || indexOfElement(map, event.target) > top.index) {
          return;
        }
        event.stopPropagation();
        top.layer.fire("click", {
          latlng: latlng,
          layerPoint: map.latLngToLayerPoint(latlng),
          containerPoint: map.latLngToContainerPoint(latlng),
          originalEvent: event,
          layer: { feature: { properties: top.drawn.properties }, properties: top.drawn.properties },
        });
      },
      true
    );
    var pending = null;
    map.on("mousemove", function (event) {
      pending = event.latlng;
      L.Util.requestAnimFrame(function () {
        if (pending) {
          container.classList.toggle("gs-over-tiled", !!topFeatureAt(map, pending));
          pending = null;
        }
      });
    });
  }

  GS.tiledLayer = function (def) {
    var pathStyle = GS.pathStyle(def);
    var points = def.geometry.indexOf("Point") >= 0;

    function styleOf(properties) {
      var style = pathStyle({ properties: properties });
      if (points) {
        style.radius = def.style.radius;
        style.fill = true;
        style.fillOpacity = 0.9;
        style.color = "#ffffff";
      }
      return style;
    }

    var styles = {};
    styles[def.id] = styleOf;
    var minZoom = def.tilesMinZoom || 0;
    var layer = L.vectorGrid.protobuf(def.tiles, {
      minZoom: minZoom,
      pane: TILES_PANE,
      vectorTileLayerStyles: styles,
      /* The tiles take no pointer events: clicks are dealt out by listenForClicks. */
      interactive: false,
      rendererFactory: L.canvas.tile,
      getFeatureId: function (feature) {
        return feature.properties.id;
      },
    });
    /* Zoomed out below minZoom (Leaflet rounds the zoom to a tile level likewise), the
     * layer holds no tiles: it counts as loaded, with nothing drawn, until zoomed in. */
    function checkZoom() {
      var map = layer._map;
      if (!map) {
        return;
      }
      layer.gsZoomIn = Math.round(map.getZoom()) < minZoom;
      if (layer.gsZoomIn) {
        layer.gsFeatureCount = 0;
        layer.gsLoaded = true;
        layer.fire("gs:loaded", { count: 0 });
      }
    }
    var addTo = layer.onAdd;
    var removeFrom = layer.onRemove;
    /* Stacked in the map definition's order (a compound over the service circle it lies
     * in), whatever the layer control's automatic z-indexes say. */
    function stackOrder() {
      return GS.layers.indexOf(layer) + 1;
    }
    layer.setZIndex = function () {
      return this;
    };
    layer.onAdd = function (map) {
      if (!map.getPane(TILES_PANE)) {
        map.createPane(TILES_PANE).style.zIndex = 410;
      }
      layer.options.zIndex = stackOrder();
      addTo.call(this, map);
      listenForClicks(map);
      map.on("zoomend", checkZoom);
      checkZoom();
    };
    layer.onRemove = function (map) {
      map.off("zoomend", checkZoom);
      return removeFrom.call(this, map);
    };
    layer.gsZoomIn = false;
    layer.gsDefinition = def;
    layer.gsFeatureCount = 0;
    layer.options.style = function (feature) {
      return styleOf(feature.properties);
    };
    GS.layers.push(layer);

    /* Each feature of the tiles loaded, once: {feature, setStyle}. */
    layer.eachLayer = function (visit) {
      var seen = {};
      Object.keys(layer._vectorTiles || {}).forEach(function (key) {
        var features = layer._vectorTiles[key]._features || {};
        Object.keys(features).forEach(function (id) {
          if (seen[id]) {
            return;
          }
          seen[id] = true;
          var properties = features[id].feature.properties;
          visit({
            feature: { properties: properties },
            setStyle: function (style) {
              layer.setFeatureStyle(id, L.extend(styleOf(properties), style));
            },
          });
        });
      });
    };
    layer.resetStyle = function (sub) {
      layer.resetFeatureStyle(String(sub.feature.properties.id));
    };

    if (def.interactive && def.popup.length) {
      layer.on("click", function (event) {
        L.popup()
          .setLatLng(event.latlng)
          .setContent(GS.popupHtml(def, event.layer.feature.properties))
          .openOn(layer._map);
      });
    }
    /* New tiles on their way (a zoom or a pan): not loaded until they are, so that a
     * panel or a test waiting for gsLoaded waits for the features now in view. */
    layer.on("loading", function () {
      layer.gsLoaded = false;
    });
    layer.on("load", function () {
      var count = 0;
      layer.eachLayer(function () {
        count += 1;
      });
      layer.gsFeatureCount = count;
      layer.gsLoaded = true;
      layer.fire("gs:loaded", { count: count });
    });
    layer.on("tileerror", function () {
      layer.gsError = "a tile did not load";
      GS.setStatus("图块加载失败 / Could not load some tiles of " + def.title.en);
    });
    return layer;
  };
})(window);
