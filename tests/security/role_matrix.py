"""Who may call each route: one row per operation id, one column per principal.

``tests/security/test_role_matrix.py`` reads the app's routes and fails when a route has
no row here (or a row names a route that is gone), then calls every route as every
principal and checks the answer against its row. Adding a route means adding its row:

- ``staff(ORG, OFF, ...)``: only these roles (owners both A and B, at the guard); a
  device is refused, anonymous is 401, everyone else not listed 403.
- ``owned(...)``: as ``staff`` and the path names owner A's thing: owner B is refused
  (404 or 403) though the guard lets owners in.
- ``DEVICE``: gate devices only (a device of another festival passes the guard; its
  scans are refused by festival inside the answer, see tests/checkin).
- ``PUBLIC``: anyone; ``PAGE``: a public HTML page (a redirect to sign-in counts as
  allowed: the page itself decides).
- ``CREDENTIAL``: needs a credential of its own (a pay link's token, an order's access
  token, Stripe's signature, a password); every principal without it is refused (429 once
  sign-in is throttled; 503 when
  the credential cannot be checked at all: no Stripe webhook secret configured).
- ``console(ORG, ...)``: a console page (``/console``), signed in by its cookie: checked
  as each staff role signed in through ``POST /console/login`` (posting the page's CSRF
  token), and as nobody, who is sent to the sign-in page. (A bearer token is honoured
  there as on the API: no browser sends one by itself, and posts still need the token.)
- ``CONSOLE_OPEN``: the console's own sign-in and sign-out (anyone).

``run=False`` rows are checked for presence only (a stream that never ends).
"""

from dataclasses import dataclass

ANONYMOUS, OWNER_A, OWNER_B = "anonymous", "owner_a", "owner_b"
OFF, ORG, GATE, DEVICE_Y = "official", "organiser", "gate", "device_y"
OWN = "owner"
PRINCIPALS = (ANONYMOUS, OWNER_A, OWNER_B, OFF, ORG, GATE, DEVICE_Y)


@dataclass(frozen=True)
class Row:
    kind: str
    allowed: frozenset[str]
    run: bool = True

    def allows(self, principal: str) -> bool:
        if self.kind in ("public", "page", "console_open"):
            return True
        if self.kind == "credential":
            return False
        if self.kind == "device":
            return principal == DEVICE_Y
        if principal in (OWNER_A, OWNER_B):
            if self.kind == "owned" and principal == OWNER_B:
                return False
            return OWN in self.allowed
        return principal in self.allowed


def staff(*roles: str) -> Row:
    return Row("staff", frozenset(roles))


def owned(*roles: str) -> Row:
    return Row("owned", frozenset(roles))


def console(*roles: str) -> Row:
    return Row("console", frozenset(roles))


PUBLIC = Row("public", frozenset())
CONSOLE_OPEN = Row("console_open", frozenset())
PAGE = Row("page", frozenset())
DEVICE = Row("device", frozenset())
CREDENTIAL = Row("credential", frozenset())
SIGNED_IN = staff(OWN, OFF, ORG, GATE)

MATRIX: dict[str, Row] = {
    # service and access
    "Health": PUBLIC,
    "Login": PUBLIC,
    "WhoAmI": SIGNED_IN,
    "ListUsers": staff(ORG),
    "CreateUser": staff(ORG),
    "CreateDevice": staff(ORG),
    "ListDevices": staff(ORG),
    "WhoAmIDevice": DEVICE,
    "RevokeDevice": staff(ORG),
    # festivals
    "AddGate": staff(ORG),
    "AddMeeting": staff(ORG),
    "CreateFestival": staff(ORG),
    "ListFestivals": PUBLIC,
    "GetFestival": PUBLIC,
    "UpdateFestival": staff(ORG),
    "UpdateGate": staff(ORG),
    # awards
    "AllocatePrizes": staff(ORG, OFF),
    "CreateAward": staff(ORG),
    "ListAwards": PUBLIC,
    "ListAwardCategories": PUBLIC,
    "CreateAwardCategory": staff(ORG),
    "GetAward": PUBLIC,
    "DeleteAward": staff(ORG),
    "UpdateAward": staff(ORG),
    "UpdateAwardCategory": staff(ORG),
    "GetAwardCategory": PUBLIC,
    "DeleteAwardCategory": staff(ORG),
    "ExportAwardsCsv": PUBLIC,
    "ExportAwardsXlsx": PUBLIC,
    "UpdatePrizeListSettings": staff(ORG),
    "GetPrizeListSettings": PUBLIC,
    "ImportAwards": staff(ORG),
    "LockPrizeList": staff(ORG),
    "PublishPrizeList": staff(ORG),
    "GetAwardsSummary": PUBLIC,
    "UnlockPrizeList": staff(ORG),
    # check-in
    "CheckinKeys": DEVICE,
    "Scan": DEVICE,
    "SyncOfflineScans": DEVICE,
    "Attendance": staff(ORG),
    "AttendancePage": PAGE,
    "DevicesPage": PAGE,
    "ScannerPage": PAGE,
    "OfflineServiceWorker": PAGE,
    "HomePage": PAGE,
    # registration
    "AddRider": staff(OWN),
    "GetMyOwnerProfile": staff(OWN),
    "ListMyEntries": staff(OWN),
    "SignUpOwner": PUBLIC,
    "ListProvinces": PUBLIC,
    "GetHorse": owned(OWN, ORG),
    "RegisterHorse": staff(OWN, ORG),
    "ListHorses": staff(OWN, ORG),
    "CreateRace": staff(ORG),
    "ListRaces": PUBLIC,
    "UpdateRace": staff(ORG),
    "GetRace": PUBLIC,
    "ListEntries": staff(ORG, OFF),
    "CreateEntry": staff(OWN, ORG),
    "ExportEntriesCsv": staff(ORG),
    "ExportEntriesXlsx": staff(ORG),
    "ImportEntries": staff(ORG),
    "SummariseEntries": PUBLIC,
    "GetEntry": staff(OWN, ORG, OFF),
    "InspectEntry": staff(ORG, OFF),
    "PayEntry": staff(OWN, ORG),
    "ScratchEntry": staff(ORG, OFF),
    "WithdrawEntry": staff(OWN, ORG),
    "NewHorseSubmit": PAGE,
    "NewHorsePage": PAGE,
    "NewRiderSubmit": PAGE,
    "NewRiderPage": PAGE,
    "EnterRaceSubmit": PAGE,
    "EnterRacePage": PAGE,
    "OwnerLoginPage": PAGE,
    "OwnerLoginSubmit": CREDENTIAL,  # the password is the credential
    "OwnerLogout": PAGE,
    "MyEntriesPage": PAGE,
    "PayEntrySubmit": PAGE,
    "OwnerSignUpSubmit": PAGE,
    "OwnerSignUpPage": PAGE,
    "WithdrawEntrySubmit": PAGE,
    # payments
    "GetPayment": staff(ORG),
    "RecordCashPayment": staff(ORG),
    "RefundPayment": staff(ORG),
    "ReceiveStripeWebhook": CREDENTIAL,
    "CancelTestPayment": CREDENTIAL,
    "CompleteTestPayment": CREDENTIAL,
    "ExportPaymentsCsv": staff(ORG),
    "ExportPaymentsXlsx": staff(ORG),
    "ListPayments": staff(ORG),
    "SummarisePayments": staff(ORG),
    "PaymentResultPage": PAGE,
    "TestCheckoutPage": CREDENTIAL,
    # ticketing
    "CancelTicketOrder": CREDENTIAL,
    "CreateEnclosure": staff(ORG),
    "ListEnclosures": PUBLIC,
    "CreateQuota": staff(ORG),
    "ListQuotas": staff(ORG),
    "CreateTicketType": staff(ORG),
    "ListTicketTypes": PUBLIC,
    "UpdateQuota": staff(ORG),
    "DeleteQuota": staff(ORG),
    "GetTicketType": PUBLIC,
    "DeleteTicketType": staff(ORG),
    "UpdateTicketType": staff(ORG),
    "GetTicketOrder": CREDENTIAL,
    "ListTicketKeys": staff(ORG),
    "PlaceTicketOrder": PUBLIC,
    "ListTicketOrders": staff(ORG),
    "GetTicketQrPng": CREDENTIAL,
    "GetTicketQrSvg": CREDENTIAL,
    "RefundTicket": staff(ORG),
    "ReissueTicket": staff(ORG),
    "RotateTicketKey": staff(ORG),
    "GetTicketPdf": CREDENTIAL,
    "UpdateEnclosure": staff(ORG),
    "TicketOrderPage": CREDENTIAL,
    "TicketShopPage": PAGE,
    # funding
    "CreateSponsor": staff(ORG),
    "ListSponsors": staff(ORG),
    "UploadSponsorLogo": staff(ORG),
    "GetSponsorLogo": PUBLIC,
    "GetSponsor": staff(ORG),
    "GetSponsorStatement": staff(ORG),
    "GetSponsorStatementPdf": staff(ORG),
    "FundingBySourceChart": staff(ORG),
    "FundingCoverageChart": staff(ORG),
    "ExportFundingCsv": staff(ORG),
    "ExportFundingXlsx": staff(ORG),
    "RecordFunding": staff(ORG),
    "ListFundingRecords": staff(ORG),
    "ReverseFundingRecord": staff(ORG),
    "SummariseFunding": staff(ORG),
    "FundingPage": PAGE,
    "SponsorStatementPage": PAGE,
    # results
    "DrawStartList": staff(ORG, OFF),
    "ExportRaceResultsCsv": PUBLIC,
    "ExportRaceResultsXlsx": PUBLIC,
    "SetHeats": staff(ORG, OFF),
    "GetResultsHistory": PUBLIC,
    "LodgeObjection": staff(ORG, OFF),
    "DeclareOfficial": staff(ORG, OFF),
    "PublishStartList": staff(ORG, OFF),
    "GetRaceResult": PUBLIC,
    "SubmitResults": staff(ORG, OFF),
    "ScratchStarter": staff(ORG, OFF),
    "GetStartList": PUBLIC,
    "DecideObjection": staff(ORG, OFF),
    "MarkPrizePaid": staff(ORG),
    "GetPointsTable": PUBLIC,
    "ExportPrizeMoneyCsv": staff(ORG, OFF),
    "ListPrizeMoney": staff(OWN, ORG, OFF),
    "ExportPrizeMoneyXlsx": staff(ORG, OFF),
    "ExportResultsCsv": PUBLIC,
    "ExportResultsXlsx": PUBLIC,
    "SetResultsRules": staff(ORG),
    "GetPrizeMoneyTotals": staff(ORG, OFF),
    "OfficialsResultsPage": PAGE,
    # live results
    "FestivalResults": PUBLIC,
    "FestivalResultsStream": Row("public", frozenset(), run=False),
    "LiveOverlayPage": PAGE,
    "LiveResultsPage": PAGE,
    # audit
    "ListAuditEntries": staff(ORG),
    "ExportAuditEntries": staff(ORG),
    # people's pages and find my tickets
    "Favicon": PUBLIC,
    "PreviewWithdrawal": staff(OWN, ORG),
    "WithdrawEntryPage": PAGE,
    "FindMyTickets": PUBLIC,
    "FindMyTicketsPage": PAGE,
    # the organisers' console
    "ConsoleLoginPage": CONSOLE_OPEN,
    "ConsoleLogin": CONSOLE_OPEN,
    "ConsoleLogout": CONSOLE_OPEN,
    "ConsoleHome": console(ORG, OFF, GATE),
    "ConsoleDevices": console(ORG, GATE),
    "ConsoleDeviceCreate": console(ORG, GATE),
    "ConsoleDashboard": console(ORG),
    "ConsoleCategory": console(ORG),
    "ConsoleCategoryUpdate": console(ORG),
    "ConsoleAwardCreate": console(ORG),
    "ConsoleCategoryCreate": console(ORG),
    "ConsoleAwardDelete": console(ORG),
    "ConsoleAwardsImport": console(ORG),
    "ConsoleAwards": console(ORG),
    "ConsolePrizeListLock": console(ORG),
    "ConsolePrizeListPublish": console(ORG),
    "ConsolePrizeListUnlock": console(ORG),
    "ConsoleAttendance": console(ORG),
    "ConsoleDeviceRevoke": console(ORG),
    "ConsolePersonCreate": console(ORG),
    "ConsolePeople": console(ORG),
    "ConsoleEnclosureCreate": console(ORG),
    "ConsoleGateCreate": console(ORG),
    "ConsoleMeetingCreate": console(ORG),
    "ConsoleFestivalUpdate": console(ORG),
    "ConsoleSetup": console(ORG),
    "ConsoleEnclosureUpdate": console(ORG),
    "ConsoleRaceList": console(ORG),
    "ConsoleRaceCreate": console(ORG),
    "ConsoleRaceEdit": console(ORG),
    "ConsoleRaceUpdate": console(ORG),
    "ConsoleEntryDetail": console(ORG),
    "ConsoleEntryList": console(ORG),
    "ConsoleEntryExportCsv": console(ORG),
    "ConsoleEntryExportXlsx": console(ORG),
    "ConsoleEntryImportPage": console(ORG),
    "ConsoleEntryImport": console(ORG),
    "ConsoleEntryInspect": console(ORG),
    "ConsoleEntryRefuse": console(ORG),
    "ConsoleEntryWithdrawPreview": console(ORG),
    "ConsoleEntryWithdraw": console(ORG),
    "ConsoleOrderCancel": console(ORG),
    "ConsoleCashSale": console(ORG),
    "ConsoleCashDesk": console(ORG),
    "ConsoleOrderDetail": console(ORG),
    "ConsoleOrderList": console(ORG),
    "ConsoleTicketRefund": console(ORG),
    "ConsoleTicketReissue": console(ORG),
    "ConsoleQuotaResize": console(ORG),
    "ConsoleTicketTypes": console(ORG),
    "ConsolePaymentExportCsv": console(ORG),
    "ConsolePaymentExportXlsx": console(ORG),
    "ConsolePaymentList": console(ORG),
}
