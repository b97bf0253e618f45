"""Face detector plugins: one module each, registered in `vision.faces._PLUGIN_MODULES`."""
