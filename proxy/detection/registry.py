"""Every Sekisho recognizer, by name: the one list the engine builds its recognizers from.

Explicit rather than discovered, so what runs is written down in one place and a name in a
test or a benchmark means one thing. A deployment may add its own (``Registry.register``) with a
name of its own; names are unique.
"""

from __future__ import annotations

from collections.abc import Callable

from proxy.detection.recognizers import (
    addresses,
    common,
    health,
    japan,
    lexicon_names,
    romaji_names,
    secrets,
    structured_names,
    tables,
    world_names,
)
from proxy.detection.recognizers.base import Recognizer

Factory = Callable[[], Recognizer]

SEKISHO_RECOGNIZERS: dict[str, Factory] = {
    # Japanese identifiers.
    "japan_my_number": japan.JapanMyNumberRecognizer,
    "japan_phone": japan.JapanPhoneRecognizer,
    "japan_toll_free": japan.JapanTollFreeRecognizer,
    "japan_postal_code": japan.JapanPostalCodeRecognizer,
    "japan_address": japan.JapanAddressRecognizer,
    "japan_driver_license": japan.JapanDriverLicenseRecognizer,
    "japan_passport": japan.JapanPassportRecognizer,
    "japan_residence_card": japan.JapanResidenceCardRecognizer,
    "japan_bank_account": japan.JapanBankAccountRecognizer,
    "japan_health_insurance": japan.JapanHealthInsuranceRecognizer,
    "date_of_birth": japan.DateOfBirthRecognizer,
    # Credentials.
    "anthropic_key": secrets.AnthropicKeyRecognizer,
    "openai_key": secrets.OpenAIKeyRecognizer,
    "github_token": secrets.GitHubTokenRecognizer,
    "slack_token": secrets.SlackTokenRecognizer,
    "google_api_key": secrets.GoogleApiKeyRecognizer,
    "aws_key": secrets.AwsKeyRecognizer,
    "vendor_key": secrets.VendorKeyRecognizer,
    "jwt": secrets.JwtRecognizer,
    "private_key": secrets.PrivateKeyRecognizer,
    "password": secrets.PasswordRecognizer,
    "high_entropy_token": secrets.HighEntropyTokenRecognizer,
    # Shapes Presidio's own recognizers miss.
    "dotted_card": common.DottedCardRecognizer,
    "spaced_card": common.SpacedCardRecognizer,
    "lower_case_iban": common.LowerCaseIbanRecognizer,
    "us_ssn_labelled": common.UsSsnLabelledRecognizer,
    "us_passport_labelled": common.UsPassportLabelledRecognizer,
    "us_driver_license_labelled": common.UsDriverLicenseLabelledRecognizer,
    "us_bank_account_labelled": common.UsBankAccountLabelledRecognizer,
    "trunk_prefix_phone": common.TrunkPrefixPhoneRecognizer,
    # Health data tied to a person.
    "medical_record": health.MedicalRecordRecognizer,
    # Names and addresses.
    "structured_name": structured_names.StructuredNameRecognizer,
    "romaji_name": romaji_names.RomajiNameRecognizer,
    "lexicon_name": lexicon_names.LexiconNameRecognizer,
    "world_script_name": world_names.WorldScriptNameRecognizer,
    "street_address": addresses.StreetAddressRecognizer,
    # Tables and HL7 messages.
    "table_column": tables.TableColumnRecognizer,
    "hl7_patient": tables.HL7PatientRecognizer,
}


class Registry:
    """The recognizers one engine runs: Sekisho's, plus any a deployment registers."""

    def __init__(self) -> None:
        self._factories: dict[str, Factory] = dict(SEKISHO_RECOGNIZERS)

    def register(self, name: str, factory: Factory) -> None:
        if name in self._factories:
            raise ValueError(f"a recognizer named {name!r} is registered already")
        self._factories[name] = factory

    @property
    def names(self) -> list[str]:
        return list(self._factories)

    def build(self) -> list[Recognizer]:
        return [factory() for factory in self._factories.values()]
