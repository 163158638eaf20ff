from django.db import migrations
from django.utils.text import slugify

SPECIALTIES = [
    "Allergy and Immunology", "Anaesthesiology", "Cardiology", "Cardiothoracic Surgery",
    "Critical Care", "Dermatology", "Emergency Medicine", "Endocrinology",
    "Family Medicine", "Gastroenterology", "General Surgery", "Geriatrics",
    "Haematology", "Infectious Diseases", "Internal Medicine", "Medical Genetics",
    "Nephrology", "Neurology", "Neurosurgery", "Obstetrics and Gynaecology",
    "Oncology", "Ophthalmology", "Orthopaedics", "Otolaryngology", "Paediatrics",
    "Palliative Care", "Pathology", "Physical Medicine and Rehabilitation",
    "Plastic Surgery", "Psychiatry", "Pulmonology", "Radiology", "Rheumatology",
    "Sports Medicine", "Urology", "Vascular Surgery",
]


def seed(apps, schema_editor):
    Specialty = apps.get_model("workspace", "Specialty")
    for name in SPECIALTIES:
        Specialty.objects.get_or_create(slug=slugify(name), defaults={"name": name})


class Migration(migrations.Migration):
    dependencies = [("workspace", "0001_initial")]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
