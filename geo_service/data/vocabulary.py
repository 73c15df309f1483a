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

#: Labels of the services for people, Chinese and English.
SERVICE_LABELS: dict[str, dict[str, str]] = {
    "party_education": {"zh": "党员教育", "en": "Party-member education"},
    "deliberation": {"zh": "议事协商", "en": "Deliberation"},
    "volunteer_service": {"zh": "志愿服务", "en": "Volunteer service"},
    "elderly_care": {"zh": "养老服务", "en": "Elderly care"},
    "childrens_room": {"zh": "儿童之家", "en": "Children's room"},
    "legal_aid": {"zh": "法律援助", "en": "Legal aid"},
    "health": {"zh": "健康服务", "en": "Health"},
    "culture": {"zh": "文化活动", "en": "Culture"},
}
