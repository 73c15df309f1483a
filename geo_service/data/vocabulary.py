"""Fixed vocabularies of the data model, shared by the catalog's demo data and the analysis.

The catalog entry of ``service_centres`` lists the same values as the allowed items of its
``services`` property; a test keeps them in step.
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
