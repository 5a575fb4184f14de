//! Inputs found by the fuzz targets in `fuzz/` (see `fuzz/README.md`), replayed through the
//! same paths, so a fix stays fixed.
