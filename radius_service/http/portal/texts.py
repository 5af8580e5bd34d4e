"""The portal's words in English and Swahili. Keys are the same in both languages."""

from __future__ import annotations

LANGUAGES = ("en", "sw")

TEXTS: dict[str, dict[str, str]] = {
    "en": {
        "title": "Buy internet",
        "choose": "Choose a package",
        "phone": "M-Pesa phone number",
        "phone_hint": "e.g. 0712 345 678",
        "pay": "Pay with M-Pesa",
        "voucher_title": "Have a voucher?",
        "voucher": "Voucher code",
        "connect": "Connect",
        "paid_title": "I have already paid",
        "receipt": "M-Pesa code or phone number (e.g. QGH7XXXXXX or 0712 345 678)",
        "find": "Find my payment",
        "waiting": "Check your phone and enter your M-Pesa PIN to pay {amount}.",
        "paid": "Payment received. Connecting you…",
        "paid_no_login": "Payment received. Ask us for your login.",
        "cancelled": "You cancelled the payment.",
        "timeout": "The payment request timed out.",
        "failed": "The payment did not go through: {reason}",
        "retry": "Try again",
        "not_found": "We could not find that M-Pesa code.",
        "checking": "We are checking this payment with M-Pesa; try again in a minute.",
        "no_phone_payment": "We found no payment from that number in the last day for this "
        "device. Enter the M-Pesa code from your SMS instead.",
        "not_hotspot": "That M-Pesa code paid for a home connection, not for this hotspot.",
        "no_device": "That payment is on an account with a username and password: "
        "log in with those, or ask us for help.",
        "other_device": "That M-Pesa code was paid from another device. Open this page on "
        "that device, or ask us for help.",
        "too_many": "Too many tries. Please wait 15 minutes and try again.",
        "no_gateway": "M-Pesa payments are not available here right now.",
        "daraja_down": "M-Pesa is not answering. Please try again in a minute.",
        "daraja_busy": "M-Pesa is busy. Please try again in a minute.",
        "daraja_refused": "M-Pesa refused the payment request. Please try again, or ask us "
        "for help.",
        "push_pending": "A payment request is already waiting on this phone. Answer it or "
        "wait a minute, then try again.",
        "signup_phone_limit": "This phone number already has the most hotspot accounts "
        "allowed. Use the device you paid from before, or ask us for help.",
        "signup_device_taken": "This device is registered to a home account: log in with "
        "its username and password, or ask us for help.",
        "signup_other": "We could not register this device. Please ask us for help.",
        "package_gone": "That package is no longer on sale. Choose another.",
        "bad_request": "Something was missing from the form. Please try again.",
        "no_signup": "This hotspot does not sign up new devices. "
        "Use a voucher code, or ask the provider for an account.",
        "bad_phone": "Enter a Safaricom number like 0712 345 678.",
        "bad_package": "Choose a package.",
        "help": "Help",
        "no_packages": "No packages are on sale right now.",
        "unknown_network": "This network's page was not found.",
    },
    "sw": {
        "title": "Nunua intaneti",
        "choose": "Chagua kifurushi",
        "phone": "Nambari ya simu ya M-Pesa",
        "phone_hint": "mf. 0712 345 678",
        "pay": "Lipa kwa M-Pesa",
        "voucher_title": "Una vocha?",
        "voucher": "Nambari ya vocha",
        "connect": "Unganisha",
        "paid_title": "Nimeshalipa",
        "receipt": "Msimbo wa M-Pesa au nambari ya simu (mf. QGH7XXXXXX au 0712 345 678)",
        "find": "Tafuta malipo yangu",
        "waiting": "Angalia simu yako na uweke PIN ya M-Pesa kulipa {amount}.",
        "paid": "Malipo yamepokelewa. Tunakuunganisha…",
        "paid_no_login": "Malipo yamepokelewa. Tuulize maelezo ya kuingia.",
        "cancelled": "Umeghairi malipo.",
        "timeout": "Ombi la malipo limepitwa na muda.",
        "failed": "Malipo hayakufaulu: {reason}",
        "retry": "Jaribu tena",
        "not_found": "Hatukupata msimbo huo wa M-Pesa.",
        "checking": "Tunathibitisha malipo haya na M-Pesa; jaribu tena baada ya dakika moja.",
        "no_phone_payment": "Hatukupata malipo kutoka nambari hiyo katika siku moja iliyopita "
        "kwa kifaa hiki. Weka msimbo wa M-Pesa ulio kwenye SMS yako badala yake.",
        "not_hotspot": "Msimbo huo wa M-Pesa ulilipia muunganisho wa nyumbani, si hotspot hii.",
        "no_device": "Malipo hayo ni ya akaunti yenye jina la mtumiaji na nenosiri: "
        "ingia kwa hayo, au tuulize msaada.",
        "other_device": "Msimbo huo wa M-Pesa ulilipwa kutoka kifaa kingine. Fungua ukurasa "
        "huu kwenye kifaa hicho, au tuulize msaada.",
        "too_many": "Umejaribu mara nyingi mno. Tafadhali subiri dakika 15 kisha ujaribu tena.",
        "no_gateway": "Malipo ya M-Pesa hayapatikani hapa kwa sasa.",
        "daraja_down": "M-Pesa haijibu. Tafadhali jaribu tena baada ya dakika moja.",
        "daraja_busy": "M-Pesa ina shughuli nyingi. Tafadhali jaribu tena baada ya dakika moja.",
        "daraja_refused": "M-Pesa imekataa ombi la malipo. Tafadhali jaribu tena, au tuulize "
        "msaada.",
        "push_pending": "Kuna ombi la malipo linalosubiri kwenye simu hii. Lijibu au subiri "
        "dakika moja, kisha ujaribu tena.",
        "signup_phone_limit": "Nambari hii ya simu tayari ina akaunti nyingi zaidi za hotspot "
        "zinazoruhusiwa. Tumia kifaa ulicholipia awali, au tuulize msaada.",
        "signup_device_taken": "Kifaa hiki kimesajiliwa kwa akaunti ya nyumbani: ingia kwa "
        "jina la mtumiaji na nenosiri lake, au tuulize msaada.",
        "signup_other": "Hatukuweza kusajili kifaa hiki. Tafadhali tuulize msaada.",
        "package_gone": "Kifurushi hicho hakiuzwi tena. Chagua kingine.",
        "bad_request": "Kuna kitu kilikosekana kwenye fomu. Tafadhali jaribu tena.",
        "no_signup": "Hotspot hii haisajili vifaa vipya. "
        "Tumia msimbo wa vocha, au muulize mtoa huduma akaunti.",
        "bad_phone": "Weka nambari ya Safaricom kama 0712 345 678.",
        "bad_package": "Chagua kifurushi.",
        "help": "Msaada",
        "no_packages": "Hakuna vifurushi vinavyouzwa kwa sasa.",
        "unknown_network": "Ukurasa wa mtandao huu haukupatikana.",
    },
}


def language(raw: str | None) -> str:
    return raw if raw in LANGUAGES else "en"


def texts(lang: str) -> dict[str, str]:
    return TEXTS[language(lang)]
