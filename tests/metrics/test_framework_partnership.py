"""The framework file names its partnership (CONTRACT §1 ``framework.partnership``): a file without the key goes
to the default partnership and exports as before; a file with it loads into that partnership and exports it back."""

import pytest
import yaml

from accounts.models import AuditEvent, Partnership
from accounts.partnerships import default_partnership
from frameworks.models import Framework, FrameworkVersion
from metrics.catalogue.export import framework_export
from metrics.catalogue.load import framework_load
from metrics.catalogue.schema import FrameworkFileError

from .test_catalogue import SMALL

pytestmark = pytest.mark.django_db


def with_partnership(text: str, code: str) -> str:
    return text.replace("home_area: staffordshire,", f"home_area: staffordshire, partnership: {code},", 1)


def test_a_file_without_the_key_goes_to_the_default_partnership_and_exports_without_it():
    framework_load(text=SMALL)
    framework = Framework.objects.get(code="lcjb-2024")
    assert framework.partnership == default_partnership()
    exported = framework_export(code="lcjb-2024")
    assert "partnership" not in yaml.safe_load(exported)["framework"]
    framework_load(text=exported)
    assert framework_export(code="lcjb-2024") == exported
    assert FrameworkVersion.objects.filter(framework=framework).count() == 1


def test_a_file_naming_its_partnership_loads_into_it_and_round_trips():
    derbyshire = Partnership.objects.create(code="derbyshire-lcjb", name="Derbyshire LCJB")
    framework_load(text=with_partnership(SMALL, "derbyshire-lcjb"))
    framework = Framework.objects.get(code="lcjb-2024")
    assert framework.partnership.code == "derbyshire-lcjb"
    exported = framework_export(code="lcjb-2024", partnership=derbyshire)
    assert yaml.safe_load(exported)["framework"]["partnership"] == "derbyshire-lcjb"
    events = AuditEvent.objects.count()
    result = framework_load(text=exported)
    assert not result.changed
    assert AuditEvent.objects.count() == events
    assert framework_export(code="lcjb-2024", partnership=derbyshire) == exported


def test_naming_the_default_partnership_is_the_same_as_leaving_it_out():
    framework_load(text=SMALL)
    result = framework_load(text=with_partnership(SMALL, default_partnership().code))
    assert not result.changed


def test_an_unknown_partnership_is_rejected_with_its_key_path_and_nothing_is_written():
    with pytest.raises(FrameworkFileError) as caught:
        framework_load(text=with_partnership(SMALL, "nowhere"))
    assert caught.value.errors == ["framework.partnership: unknown partnership 'nowhere'"]
    assert not Framework.objects.exists()
    assert not Partnership.objects.filter(code="nowhere").exists()


def test_a_framework_does_not_move_between_partnerships_the_same_code_elsewhere_is_another_framework():
    # Framework codes are unique within a partnership (issue 18): the default partnership's framework stays
    # where it is, and the same file naming another partnership makes that partnership's own framework.
    Partnership.objects.create(code="derbyshire-lcjb", name="Derbyshire LCJB")
    framework_load(text=SMALL)
    framework_load(text=with_partnership(SMALL, "derbyshire-lcjb"))
    owners = sorted(Framework.objects.filter(code="lcjb-2024").values_list("partnership__code", flat=True))
    assert owners == ["default", "derbyshire-lcjb"]


def test_the_export_of_another_partnerships_framework_is_refused_when_a_partnership_is_named():
    other = Partnership.objects.create(code="derbyshire-lcjb", name="Derbyshire LCJB")
    framework_load(text=SMALL)
    with pytest.raises(Framework.DoesNotExist):
        framework_export(code="lcjb-2024", partnership=other)
    assert framework_export(code="lcjb-2024", partnership=default_partnership()) == framework_export(code="lcjb-2024")


def test_a_framework_made_without_a_partnership_belongs_to_the_default_one(db):
    from tests.factories import FrameworkFactory

    assert FrameworkFactory().partnership == default_partnership()
