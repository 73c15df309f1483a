"""Map pages: folium builders, vendored Leaflet assets."""
