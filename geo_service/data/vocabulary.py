"""The demo district's services vocabulary, used by its generator.

The analysis and the pages read the vocabulary from the district profile
(``district.yaml``: ``analysis.services``); a test keeps the profile, the catalog entry
of ``service_centres`` and this list in step.
"""

#: Services a Party-and-public service centre may offer (``services``, ``;``-separated).
SERVICE_VOCABULARY = (
    "party_education",
    "deliberation",
    "volunteer_service",
    "elderly_care",
    "childrens_room",
    "legal_aid",
    "health",
    "culture",
)
