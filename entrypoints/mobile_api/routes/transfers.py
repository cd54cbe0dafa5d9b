from litestar import Controller, post
from litestar.di import Provide
from litestar.params import JSONBody
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED

from application.transfers.issue_code import IssueTransferCode
from application.transfers.redeem_code import RedeemTransferCode
from domain.transfers.model import InvalidTransferCode, MalformedTransferCode
from entrypoints.mobile_api.auth import CurrentUser, provide_principal
from entrypoints.mobile_api.openapi import BODY, SIGNED_IN, errors
from entrypoints.mobile_api.schemas import RedeemRequest, SessionView, TransferCodeView
from entrypoints.wiring.di import Injected


class TransferCodesController(Controller):
    path = "/transfer-codes"
    tags = ["transfer"]

    @post("/", status_code=HTTP_201_CREATED, dependencies={"principal": Provide(provide_principal)},
          responses=errors(SIGNED_IN), security=[{"bearer": []}],
          summary="A one-time code to move this account to a new phone")
    async def issue(
        self, issue_transfer_code: Injected[IssueTransferCode], principal: CurrentUser
    ) -> TransferCodeView:
        """A one-time code (short-lived) to move this account to a new phone; one open code per
        account."""
        issued = await issue_transfer_code(principal)
        return TransferCodeView(issued.code, issued.expires_at)

    @post("/redeem", status_code=HTTP_200_OK, opt={"limit": "redeem"},
          responses=errors(BODY, MalformedTransferCode, InvalidTransferCode),
          summary="Move the account to this phone; older devices are signed out")
    async def redeem(
        self, data: JSONBody[RedeemRequest],
        redeem_transfer_code: Injected[RedeemTransferCode],
    ) -> SessionView:
        """Moves the account to this phone with a transfer code and answers its tokens; the
        account's other devices are signed out."""
        result = await redeem_transfer_code(data.code, data.device_id, data.platform)
        return SessionView.of(result)
