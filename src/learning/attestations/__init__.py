"""Attestations of completion (« attestations de suivi »): issued to a learner who completed a module or the
course, as a PDF, a public page that says whether it holds (``/attestations/{number}``) and an Open Badges 3.0
credential signed with the instance's key (public key at ``/.well-known/jwks.json``). It reads the catalog and
the progress domains (completion is ``ModuleProgress.completed``), so it sits above them."""
