"""Planning: choosing between alignments and sites (alternatives side by side, least-impact routing, hub siting).

Every candidate these modules propose is measured exactly by the engine (:func:`landplan.run` on a
scenario holding that geometry); the raster cost surface (:mod:`.costsurface`) only guides the search.
"""
