//! Real XML API documents (`fixtures/real/`, provenance in its README) read
//! as the real service wrote them: every real GetUser value for value, both
//! real GetSites, LstMeetingType, the non-user responses, declared encodings,
//! and (with the simulator) every real request sample answered as the service
//! would, never SUCCESS with an element dropped (issue 16 items 3, 8, 9).

#![recursion_limit = "512"]

mod common;

use serde_json::{Map, Value as Json, json};

use wbxprov::ops::{MeetingTypeList, Operation, SiteInstance};
use wbxprov::schema::{FlatKey, User, Value};
use wbxprov::xml::{DecodeError, decode};

fn real(relative: &str) -> Vec<u8> {
    common::real_document(relative)
}

fn user_of(relative: &str) -> (User, u32) {
    let response = decode::<User>(&real(relative)).unwrap_or_else(|e| panic!("{relative}: {e}"));
    let unknown = response.unknown_elements;
    (response.success().expect("SUCCESS"), unknown)
}

/// Every flat value, compared one by one, and no value more or less.
fn assert_values(relative: &str, user: &User, expected: Json) {
    let got = user.to_flat().to_json(false);
    let Json::Object(expected) = expected else {
        unreachable!()
    };
    for (key, want) in &expected {
        assert_eq!(got.get(key), Some(want), "{relative}: {key}");
    }
    let extra: Vec<&String> = got.keys().filter(|k| !expected.contains_key(*k)).collect();
    assert!(
        extra.is_empty(),
        "{relative}: values not expected: {extra:?}"
    );
}

fn secret(user: &User, key: &str) -> String {
    match user.get(key.parse::<FlatKey>().unwrap()) {
        Some(Value::Secret(s)) => s.expose().to_owned(),
        other => panic!("{key}: {other:?}"),
    }
}

#[test]
fn atlas_get_user_decodes_value_for_value() {
    let name = "responses/getUser_atlas_examplesite.xml";
    let (user, unknown) = user_of(name);
    assert_values(
        name,
        &user,
        json!({
        "firstName": "undefined",
        "lastName": "undefined",
        "categoryId": 36,
        "webExId": "jdoe0000+00000@example.com",
        "addressAddressType": "PERSONAL",
        "phonesPIN": "",
        "email": "jdoe0000+00000@example.com",
        "personalUrl": "pr1454974599154",
        "expirationDate": "12/31/2049 23:59:59",
        "commOptionsProdAnnounce": true,
        "commOptionsTrainingInfo": true,
        "commOptionsElectronicInfo": true,
        "commOptionsPromos": true,
        "commOptionsPress": true,
        "commOptionsEmail": true,
        "commOptionsFax": true,
        "commOptionsPhone": true,
        "commOptionsMail": true,
        "meetingTypes": [214, 216],
        "optionsFirstNameVisible": false,
        "optionsLastNameVisible": false,
        "optionsAddressVisible": false,
        "optionsWorkPhoneVisible": false,
        "optionsCellPhoneVisible": false,
        "optionsPagerVisible": false,
        "optionsFaxVisible": false,
        "optionsOfficeUrlVisible": false,
        "optionsPictureVisible": false,
        "optionsNotifyOnNewMessage": false,
        "optionsNotifyOnMeeting": false,
        "optionsFollowMeEnable": false,
        "optionsEmailVisible": false,
        "optionsListInCategory": false,
        "optionsTitleVisible": false,
        "optionsFolderRead": false,
        "optionsFolderWrite": false,
        "optionsMessageVisible": false,
        "optionsIconSelect1": false,
        "optionsIconSelect2": false,
        "optionsAcceptLinkRequest": false,
        "optionsHoldOnLinkRequest": false,
        "optionsNotifyOnLinkRequest": false,
        "optionsSupportVideo": false,
        "optionsSupportApp": false,
        "optionsSupportFileShare": false,
        "optionsSupportDesktopShare": false,
        "optionsSupportMeetingRecord": false,
        "optionsSupportAppshareRemote": false,
        "optionsSupportWebTourRemote": false,
        "optionsSupportDesktopShareRemote": false,
        "optionsSubscriptionOffice": false,
        "optionsWorkPhoneCallback": false,
        "optionsCellPhoneCallback": false,
        "optionsFaxCallback": false,
        "optionsPagerCallback": false,
        "timeZoneID": 4,
        "timeZone": "GMT-08:00, Pacific (San Jose)",
        "timeZoneWithDST": "San Francisco (Pacific Standard Time, GMT-08:00)",
        "service": "FREE_OFFICE",
        "privilegeHost": true,
        "privilegeTeleConfCallOut": true,
        "privilegeTeleConfCallOutInternational": true,
        "privilegeTeleConfCallIn": true,
        "privilegeTeleConfTollFreeCallIn": true,
        "privilegeSiteAdmin": false,
        "privilegeVoiceOverIp": true,
        "privilegeRoSiteAdmin": false,
        "privilegeLabAdmin": false,
        "privilegeOtherTelephony": false,
        "privilegeTeleConfCallInInternational": true,
        "privilegeAttendeeOnly": false,
        "privilegeRecordingEditor": true,
        "privilegeMeetingAssist": false,
        "privilegeHQvideo": true,
        "privilegeHDvideo": true,
        "privilegeIsEnableCET": true,
        "privilegeIsEnablePMR": true,
        "privilegeTeleCLIAuthEnabled": false,
        "privilegeTeleCLIPINEnabled": false,
        "language": "ENGLISH",
        "locale": "U.S.",
        "active": "ACTIVATED",
        "defaultCallIn": "",
        "supportedServicesMeetingCenter": true,
        "supportedServicesTrainingCenter": false,
        "supportedServicesSupportCenter": false,
        "supportedServicesEventCenter": true,
        "supportedServicesSalesCenter": false,
        "myWebExIsMyWebExPro": true,
        "myWebExMyContact": true,
        "myWebExMyProfile": true,
        "myWebExMyMeetings": true,
        "myWebExMyFolders": true,
        "myWebExTrainingRecordings": true,
        "myWebExRecordedEvents": true,
        "myWebExTotalStorageSize": 1000,
        "myWebExMyReports": true,
        "myWebExMyComputer": 0,
        "myWebExPersonalMeetingRoom": true,
        "myWebExMyPartnerLinks": false,
        "myWebExMyWorkspaces": false,
        "myWebExAdditionalRecordingStorage": 0,
        "personalTeleconfJoinBeforeHost": false,
        "videoSystems": "",
        "personalMeetingRoomTitle": "undefined undefined\\'s Personal Room",
        "personalMeetingRoomURL": "https://examplesite0013.eng.webex.com/meet/pr1454974599154",
        "personalMeetingRoomSipURL": "pr1454974599154@examplesite0013.eng.webex.com",
        "personalMeetingRoomAccessCode": "123456789",
        "personalMeetingRoomHostPIN": "***",
        "personalMeetingRoomApplyPMRForInstantMeeting": true,
        "personalMeetingRoomPmrAutoLock": false,
        "personalMeetingRoomPmrAutoLockWaitTime": 0,
        "personalMeetingRoomPRNotificationsMode": "EMAIL",
        "sessionOptionsDefaultSessionType": 216,
        "sessionOptionsDefaultServiceType": "EventCenter",
        "sessionOptionsAutoDeleteAfterMeetingEnd": true,
        "sessionOptionsDisplayQuickStartHost": true,
        "sessionOptionsDisplayQuickStartAttendees": false,
        "supportCenterServiceDeskEnable": false,
        "securityForceChangePassword": false,
        "securityResetPassword": false,
        "securityLockAccount": false,
        "languageID": 1,
        "webACDPrefsIsAgent": false,
        "webACDPrefsIsMgr": false,
        "webACDPrefsNumAgentSessions": 0,
        "webACDPrefsAgentMonitorAllRSQueues": false,
        "webACDPrefsManagerMonitorAllRSQueues": false,
        "webACDPrefsMonitorAllRSAgents": false,
        "registrationDate": "02/08/2016 15:21:23",
        "visitCount": 0,
        "userId": 962225390,
        "eventCenterOptimizeAttendeeBandwidthUsage": true,
        "passwordExpires": false,
        "passwordDaysLeft": 0,
        }),
    );
    // `<use:tracking/>` is the one element no catalogue attribute reads.
    assert_eq!(unknown, 1);
}

#[test]
fn empty_and_set_secrets_differ() {
    let name = "responses/getUser_atlas_examplesite.xml";
    let (user, _) = user_of(name);
    // `<use:PIN></use:PIN>` is empty; the PMR hostPIN holds 4 digits.
    assert_eq!(secret(&user, "phonesPIN"), "");
    assert_eq!(secret(&user, "personalMeetingRoomHostPIN"), "1234");
    let shown = user.to_flat().to_json(false);
    assert_eq!(shown["phonesPIN"], "", "an empty secret is shown empty");
    assert_eq!(
        shown["personalMeetingRoomHostPIN"], "***",
        "a set one masked"
    );
}

#[test]
fn erolms_live_get_user_decodes_value_for_value() {
    let name = "responses/erolms_user_get_user_response_good.http";
    let (user, unknown) = user_of(name);
    assert_values(
        name,
        &user,
        json!({
        "firstName": "Firstname",
        "lastName": "Lastname",
        "title": "New office",
        "categoryId": 36,
        "description": "The system automatically creates this office when it creates your user account.",
        "company": "Company",
        "webExId": "123456",
        "addressAddressType": "PERSONAL",
        "addressCountry": "49",
        "phonesPhone": "49,,,,,,",
        "phonesMobilePhone": "49,,,,,,",
        "phonesFax": "49,,,,,,",
        "phonesPager": "49,,,,,,",
        "email": "123456@mail.com",
        "expirationDate": "none",
        "commOptionsProdAnnounce": false,
        "commOptionsTrainingInfo": false,
        "commOptionsElectronicInfo": false,
        "commOptionsPromos": false,
        "commOptionsPress": false,
        "commOptionsEmail": false,
        "commOptionsFax": false,
        "commOptionsPhone": false,
        "commOptionsMail": false,
        "meetingTypes": [1],
        "optionsFirstNameVisible": true,
        "optionsLastNameVisible": true,
        "optionsAddressVisible": true,
        "optionsWorkPhoneVisible": true,
        "optionsCellPhoneVisible": true,
        "optionsPagerVisible": true,
        "optionsFaxVisible": true,
        "optionsOfficeUrlVisible": true,
        "optionsPictureVisible": true,
        "optionsNotifyOnNewMessage": true,
        "optionsNotifyOnMeeting": true,
        "optionsFollowMeEnable": true,
        "optionsEmailVisible": true,
        "optionsListInCategory": true,
        "optionsTitleVisible": true,
        "optionsFolderRead": false,
        "optionsFolderWrite": false,
        "optionsMessageVisible": false,
        "optionsIconSelect1": false,
        "optionsIconSelect2": false,
        "optionsAcceptLinkRequest": false,
        "optionsHoldOnLinkRequest": true,
        "optionsNotifyOnLinkRequest": true,
        "optionsSupportVideo": true,
        "optionsSupportApp": true,
        "optionsSupportFileShare": true,
        "optionsSupportDesktopShare": true,
        "optionsSupportMeetingRecord": true,
        "optionsSupportAppshareRemote": true,
        "optionsSupportWebTourRemote": true,
        "optionsSupportDesktopShareRemote": true,
        "optionsSubscriptionOffice": true,
        "timeZoneID": 25,
        "timeZone": "GMT+01:00, Europe (Berlin)",
        "timeZoneWithDST": "Berlin (Europe Summer Time, GMT+02:00)",
        "service": "FREE_OFFICE",
        "privilegeHost": true,
        "privilegeTeleConfCallOut": false,
        "privilegeTeleConfCallOutInternational": false,
        "privilegeTeleConfCallIn": false,
        "privilegeTeleConfTollFreeCallIn": false,
        "privilegeSiteAdmin": false,
        "privilegeVoiceOverIp": false,
        "privilegeRoSiteAdmin": false,
        "privilegeLabAdmin": false,
        "privilegeOtherTelephony": false,
        "privilegeTeleConfCallInInternational": false,
        "privilegeAttendeeOnly": false,
        "privilegeRecordingEditor": true,
        "privilegeMeetingAssist": false,
        "privilegeAllowExtAttendees": true,
        "privilegeIsEnableCET": false,
        "privilegeIsEnablePMR": false,
        "language": "GERMAN",
        "locale": "GERMANY",
        "schedulingPermission": "654321",
        "active": "ACTIVATED",
        "supportedServicesMeetingCenter": true,
        "supportedServicesTrainingCenter": false,
        "supportedServicesSupportCenter": false,
        "supportedServicesEventCenter": false,
        "supportedServicesSalesCenter": false,
        "myWebExIsMyWebExPro": false,
        "myWebExMyContact": false,
        "myWebExMyProfile": false,
        "myWebExMyMeetings": true,
        "myWebExMyFolders": false,
        "myWebExTrainingRecordings": false,
        "myWebExRecordedEvents": false,
        "myWebExTotalStorageSize": 0,
        "myWebExMyReports": false,
        "myWebExMyComputer": 0,
        "myWebExPersonalMeetingRoom": false,
        "myWebExMyPartnerLinks": false,
        "myWebExMyWorkspaces": false,
        "myWebExAdditionalRecordingStorage": 0,
        "personalTeleconfJoinBeforeHost": false,
        "sessionOptionsDefaultSessionType": 1,
        "sessionOptionsDefaultServiceType": "MeetingCenter",
        "sessionOptionsAutoDeleteAfterMeetingEnd": false,
        "sessionOptionsDisplayQuickStartHost": true,
        "sessionOptionsDisplayQuickStartAttendees": false,
        "supportCenterServiceDeskEnable": false,
        "mpProfileNumber": "908788",
        "securityForceChangePassword": true,
        "securityResetPassword": false,
        "securityLockAccount": false,
        "languageID": 9,
        "registrationDate": "01/01/1970 00:00:01",
        "visitCount": 0,
        "userId": 123456789,
        "passwordExpires": false,
        "passwordDaysLeft": 0,
        }),
    );
    // `<use:tracking/>` again; the write-only `password` (`******`) is read as
    // a known element and not kept.
    assert_eq!(unknown, 1);
}

fn site_of(relative: &str) -> (SiteInstance, u32, Vec<String>) {
    let response =
        decode::<SiteInstance>(&real(relative)).unwrap_or_else(|e| panic!("{relative}: {e}"));
    let unknown = response.unknown_elements;
    let names = response.unknown_names.clone();
    (response.success().expect("SUCCESS"), unknown, names)
}

/// Everything typed of a GetSite but `features`, which the catalogue's gates
/// decide (another item of the issue revises them); a few are checked apart.
fn site_json(site: &SiteInstance) -> Map<String, Json> {
    let Json::Object(mut map) = serde_json::to_value(site).unwrap() else {
        unreachable!()
    };
    map.remove("features");
    map
}

fn password_criteria(disallow_3x: bool) -> Json {
    json!({
        "mixedCase": true, "minLength": 8, "minNumeric": 1, "minAlpha": 2, "minSpecial": 0,
        "disallow3XRepeatedChar": disallow_3x, "disallowWebTextAccounts": true,
        "disallowList": true,
        "disallowValues": ["password", "passwd", "pass", "webex", "cisco", "xebew", "ocsic"]
    })
}

#[test]
fn qa_get_site_decodes_to_a_site_profile_value_for_value() {
    let name = "responses/getSite_atlas_someSite_qa.xml";
    let (site, unknown, names) = site_of(name);
    let expected = json!({
        "siteName": "someSite",
        "serviceTypes": ["Meeting Center", "Event Center", "Training Center", "Support Center"],
        "meetingTypes": [
            {"id": 13, "name": "SC3"}, {"id": 14, "name": "SMT"}, {"id": 16, "name": "AUO"},
            {"id": 214, "name": "PRO"}, {"id": 232, "name": "SC3"}
        ],
        "accountPasswordCriteria": password_criteria(false),
    });
    assert_eq!(Json::Object(site_json(&site)), expected);
    assert!(site.features["meetingCenter"]);
    assert!(site.features["trainingCenter"]);
    assert!(!site.features["salesCenter"]);
    // 447 elements, most of them read by nothing: counted, and named.
    assert!(unknown > 100, "unknown elements: {unknown}");
    assert!(
        names.iter().any(|n| n == "metaData/isEnterprise"),
        "{names:?}"
    );
    assert!(names.iter().any(|n| n == "metaData/parterID"), "{names:?}");
    #[cfg(feature = "validate")]
    let _profile = wbxprov::site::SiteProfile::from_site(&site);
}

#[test]
fn examplesite_get_site_decodes_to_a_site_profile_value_for_value() {
    let name = "responses/getSite_atlas_examplesite.xml";
    let (site, unknown, _) = site_of(name);
    let expected = json!({
        "siteName": "examplesite0013",
        "serviceTypes": ["Meeting Center", "Event Center"],
        "meetingTypes": [{"id": 214, "name": "PRO"}, {"id": 216, "name": "ONS"}],
        "accountPasswordCriteria": password_criteria(true),
    });
    assert_eq!(Json::Object(site_json(&site)), expected);
    assert!(site.features["meetingCenter"]);
    assert!(site.features["eventCenter"]);
    assert!(!site.features["trainingCenter"]);
    assert!(unknown > 100, "unknown elements: {unknown}");
    #[cfg(feature = "validate")]
    let _profile = wbxprov::site::SiteProfile::from_site(&site);
}

#[test]
fn lst_meeting_type_decodes_value_for_value_and_counts_what_it_skips() {
    let name = "responses/lstMeetingType_atlas.xml";
    let response = decode::<MeetingTypeList>(&real(name)).unwrap();
    let unknown = response.unknown_elements;
    let names = response.unknown_names.clone();
    let list = response.success().unwrap();
    assert_eq!(
        serde_json::to_value(&list).unwrap(),
        json!({
            "meetingTypes": [
                {"meetingTypeID": 214, "productCodePrefix": "PRO", "name": "Pro 200",
                 "displayName": "Pro 200", "active": "ACTIVATED", "serviceTypes": ["MeetingCenter"]},
                {"meetingTypeID": 216, "productCodePrefix": "ONS", "name": "Event 200",
                 "displayName": "Event 200", "active": "ACTIVATED", "serviceTypes": ["EventCenter"]}
            ],
            "matchingRecords": {"total": 2, "returned": 2, "startFrom": 1}
        })
    );
    // limits, options, phoneNumbers … of each type: read by nothing.
    assert!(unknown >= 6, "unknown elements: {unknown}");
    assert!(names.iter().any(|n| n == "options"), "{names:?}");
}

// ---------------------------------------------------------------------------
// Non-user responses (item 3).

fn detect(relative: &str) -> Result<Option<Operation>, DecodeError> {
    Operation::detect(&real(relative))
}

#[test]
fn responses_of_operations_wbxprov_does_not_know_are_errors_naming_the_body() {
    for (name, element) in [
        (
            "responses/getAPIVersion_atlas_siteList_order400.xml",
            "ep:getAPIVersionResponse",
        ),
        (
            "responses/getAPIVersion_atlas_reportfixture_SP25_singlequotes.xml",
            "ep:getAPIVersionResponse",
        ),
        (
            "responses/getSiteAdminNavUrl_atlas_enableT30UnifiedAdmin_true_ISO-8859-1.xml",
            "ns1:getSiteAdminNavUrlResponse",
        ),
        (
            "responses/getSiteAdminNavUrl_atlas_emptybody_ISO-8859-1.xml",
            "ns1:getSiteAdminNavUrlResponse",
        ),
        (
            "responses/createMeetingResponse_gsbBACKUP_respTime_caseID_go_test.xml",
            "meet:createMeetingResponse",
        ),
        (
            "responses/erolms_meeting_create_meeting_response_good.http",
            "meet:createMeetingResponse",
        ),
        (
            "responses/erolms_meeting_get_meeting_response_good.http",
            "meet:getMeetingResponse",
        ),
        (
            "responses/erolms_meeting_del_meeting_response_good.http",
            "meet:delMeetingResponse",
        ),
    ] {
        match detect(name) {
            Err(DecodeError::UnknownOperation(named)) => assert_eq!(named, element, "{name}"),
            other => panic!("{name}: {other:?}"),
        }
    }
}

#[test]
fn a_body_without_type_is_judged_by_its_children() {
    // The getAPIVersion body with its xsi:type taken away: its children are
    // in a namespace wbxprov does not read, so it is no GetUser either.
    let doc = String::from_utf8(real("responses/getAPIVersion_atlas_siteList_order400.xml"))
        .unwrap()
        .replace(r#"xsi:type="ep:getAPIVersionResponse""#, "");
    match Operation::detect(doc.as_bytes()) {
        Err(DecodeError::UnknownOperation(named)) => {
            assert!(named.starts_with("ep:"), "{named}")
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn documents_malformed_as_published_are_reported_malformed() {
    // `<serv:bodyContentxsi:type=…>`: the attribute's prefix is unbound and the
    // element name never closes as opened.
    let apiversion = detect("responses/getAPIVersion_atlas_EP1.xml");
    assert!(
        matches!(apiversion, Err(DecodeError::Syntax { .. })),
        "{apiversion:?}"
    );
    // `xmlns.use=` leaves `use` unbound and `</use:essionTicket>` closes nothing.
    let name = "responses/authenticateUserResponse_atlas_malformed.xml";
    let auth = detect(name);
    assert!(matches!(auth, Err(DecodeError::Syntax { .. })), "{auth:?}");
    let typed = decode::<wbxprov::ops::SessionTicket>(&real(name));
    assert!(
        matches!(typed, Err(DecodeError::Syntax { .. })),
        "{typed:?}"
    );
}

// ---------------------------------------------------------------------------
// Declared encodings (item 9).

#[test]
fn a_document_is_read_in_its_declared_encoding() {
    // A GetUser modelled on the Atlas capture, declared ISO-8859-1 as the
    // service's getSiteAdminNavUrl answers are, with é as the byte 0xE9.
    let utf8 = String::from_utf8(real("responses/getUser_atlas_examplesite.xml")).unwrap();
    let latin1 = utf8
        .replace(r#"encoding="UTF-8""#, r#"encoding="ISO-8859-1""#)
        .replace(
            "<use:firstName>undefined</use:firstName>",
            "<use:firstName>Ren\u{0}</use:firstName>",
        );
    assert!(
        latin1.contains("ISO-8859-1"),
        "the capture declares its encoding"
    );
    let mut bytes = latin1.into_bytes();
    let at = bytes.iter().position(|&b| b == 0).unwrap();
    bytes[at] = 0xE9;
    let user = decode::<User>(&bytes).unwrap().success().unwrap();
    assert_eq!(
        user.get("firstName".parse().unwrap()),
        Some(Value::Text("René".into()))
    );
    assert_eq!(Operation::detect(&bytes).unwrap(), Some(Operation::GetUser));
}

// ---------------------------------------------------------------------------
// Every real request sample, answered by the simulator (item 8).

#[cfg(feature = "sim")]
mod simulator {
    use super::real;
    use wbxprov::Secret;
    use wbxprov::ops::{MeetingTypeList, SessionTicket, SiteInstance, Updated, UserPage};
    use wbxprov::schema::{User, Value};
    use wbxprov::sim::{self, SimConfig, Simulator, store};
    use wbxprov::xml::{Decode, ServiceError, decode};

    /// A simulated site whose admin is the one a sample names, holding `user`.
    struct Site {
        sim: Simulator,
        admin: String,
        password: String,
        token: String,
        user: String,
        ticket: String,
    }

    const DEFAULT_TOKEN: &str = "sim-access-token";

    fn site_for(admin: &str, password: &str, token: &str, user: &str) -> Site {
        let mut config = SimConfig::new(sim::default_profile());
        config.admin_id = admin.into();
        config.admin_password = Secret::new(password);
        config.access_token = Some(Secret::new(token));
        let sim = Simulator::new(config, Box::new(store::Memory)).unwrap();
        let mut site = Site {
            sim,
            admin: admin.into(),
            password: password.into(),
            token: token.into(),
            user: user.into(),
            ticket: String::new(),
        };
        let created = site.send::<Updated>(&site.create_user());
        assert!(created.is_ok(), "CreateUser {user}: {created:?}");
        let ticket = site.send::<SessionTicket>(
            &site.password_request("java:com.webex.service.binding.user.AuthenticateUser", ""),
        );
        site.ticket = ticket.unwrap().session_ticket.expose().to_owned();
        site
    }

    fn default_site() -> Site {
        site_for(
            sim::DEFAULT_ADMIN_ID,
            sim::DEFAULT_ADMIN_PASSWORD,
            DEFAULT_TOKEN,
            "jdoe000",
        )
    }

    impl Site {
        fn send<T: Decode>(&self, request: &str) -> Result<T, ServiceError> {
            let (status, answer) = self.sim.handle(request.as_bytes());
            assert_eq!(status, 200);
            decode::<T>(answer.as_bytes())
                .unwrap_or_else(|e| panic!("{e}: {answer}"))
                .success()
        }

        /// A request as wbxprov writes one, with the admin's password.
        fn password_request(&self, xsi_type: &str, content: &str) -> String {
            format!(
                r#"<?xml version="1.0" encoding="UTF-8"?>
<serv:message xmlns:serv="http://www.webex.com/schemas/2002/06/service" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xmlns:use="http://www.webex.com/schemas/2002/06/service/user">
<serv:header><serv:securityContext><webExID>{}</webExID><password>{}</password><siteName>sim</siteName></serv:securityContext></serv:header>
<serv:body><serv:bodyContent xsi:type="{xsi_type}">{content}</serv:bodyContent></serv:body></serv:message>"#,
                self.admin, self.password
            )
        }

        fn create_user(&self) -> String {
            let id = &self.user;
            self.password_request(
                "java:com.webex.service.binding.user.CreateUser",
                &format!(
                    "<use:firstName>Jane</use:firstName><use:lastName>Doe</use:lastName>\
                     <use:webExId>{id}</use:webExId><use:email>{id}@example.com</use:email>\
                     <use:password>Pa55word!x</use:password>\
                     <use:privilege><use:host>true</use:host></use:privilege>\
                     <use:meetingTypes><use:meetingType>214</use:meetingType></use:meetingTypes>\
                     <use:supportedServices><use:meetingCenter>true</use:meetingCenter>\
                     <use:trainingCenter>false</use:trainingCenter><use:supportCenter>false</use:supportCenter>\
                     <use:eventCenter>false</use:eventCenter><use:salesCenter>false</use:salesCenter>\
                     </use:supportedServices>"
                ),
            )
        }

        fn get_user(&self) -> User {
            self.send::<User>(&self.password_request(
                "java:com.webex.service.binding.user.GetUser",
                &format!("<use:webExId>{}</use:webExId>", self.user),
            ))
            .unwrap()
        }

        /// The sample with its `{{…}}` placeholders filled in for this site.
        fn fill(&self, relative: &str) -> String {
            let mut doc = String::from_utf8(real(relative)).unwrap();
            for (names, value) in [
                (&["webexAdminID", "WEBEXID"][..], self.admin.as_str()),
                (&["PASSWORD"], &self.password),
                (&["accessToken", "ACCESS_TOKEN"], &self.token),
                (
                    &["webexAdminSessionTicket", "_SESSION_TICKET"],
                    &self.ticket,
                ),
                (&["wbxSiteName", "webexSiteName", "SITE_NAME"], "sim"),
                (&["webexUserId"], &self.user),
                (&["meetingType"], "216"),
                (&["_MEETING_START_DATE"], "01/01/2030 10:00:00"),
                (&["meetingCenter", "eventCenter"], "true"),
                (&["trainingCenter", "supportCenter", "salesCenter"], "false"),
            ] {
                for name in names {
                    doc = doc.replace(&format!("{{{{{name}}}}}"), value);
                }
            }
            assert!(!doc.contains("{{"), "{relative}: a placeholder is left");
            doc
        }

        fn answer<T: Decode>(&self, relative: &str) -> Result<T, ServiceError> {
            self.send::<T>(&self.fill(relative))
        }
    }

    #[test]
    fn authenticate_user_samples_get_a_session_ticket() {
        let default = default_site();
        for name in [
            "requests/AuthenticateUser_accessToken_atlas_template.xml",
            "requests/AuthenticateUser_accessToken_cisco_python_samples_postman.xml",
            "requests/AuthenticateUser_password_cisco_postman_enduser.xml",
        ] {
            let ticket = default.answer::<SessionTicket>(name);
            assert!(ticket.is_ok(), "{name}: {ticket:?}");
        }
        // Cisco's own sample, with its literal admin and token.
        let docs = site_for("username", "unused", "ZjJiMjZlMj...~...ae0e10f", "jdoe000");
        let name = "requests/AuthenticateUser_accessToken_cisco_docs.xml";
        let ticket = docs.answer::<SessionTicket>(name);
        assert!(ticket.is_ok(), "{name}: {ticket:?}");
    }

    #[test]
    fn get_site_and_lst_meeting_type_samples_are_answered() {
        let site = default_site();
        for name in [
            "requests/GetSite_atlas_template.xml",
            "requests/GetSite_cisco_python_samples_postman.xml",
        ] {
            let answer = site.answer::<SiteInstance>(name);
            let answer = answer.unwrap_or_else(|e| panic!("{name}: {e}"));
            assert_eq!(answer.site_name.as_deref(), Some("sim"), "{name}");
        }
        for name in [
            "requests/LstMeetingType_atlas_template.xml",
            "requests/LstMeetingType_cisco_postman_enduser.xml",
        ] {
            let answer = site.answer::<MeetingTypeList>(name);
            let answer = answer.unwrap_or_else(|e| panic!("{name}: {e}"));
            assert_eq!(answer.meeting_types.len(), 2, "{name}");
        }
    }

    #[test]
    fn get_user_samples_return_the_user() {
        let site = default_site();
        for name in [
            "requests/GetUser_atlas_template.xml",
            "requests/GetUser_cisco_postman_enduser.xml",
        ] {
            let user = site
                .answer::<User>(name)
                .unwrap_or_else(|e| panic!("{name}: {e}"));
            assert_eq!(user.web_ex_id.as_deref(), Some("jdoe000"), "{name}");
        }
        // The gem's request, with its own admin credentials.
        let gem = site_for("123456", "test", DEFAULT_TOKEN, "123456");
        let name = "requests/erolms_user_get_user_request.xml";
        let user = gem
            .answer::<User>(name)
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(user.web_ex_id.as_deref(), Some("123456"));
    }

    #[test]
    fn set_user_with_undeclared_use_prefix_is_applied() {
        let site = default_site();
        let name = "requests/SetUser_meetingTypes_undeclared_use_atlas_template.xml";
        let answer = site.answer::<Updated>(name);
        assert!(answer.is_ok(), "{name}: {answer:?}");
        let user = site.get_user();
        let value = |k: &str| user.get(k.parse().unwrap());
        assert_eq!(value("meetingTypes"), Some(Value::IntList(vec![216])));
        assert_eq!(
            value("supportedServicesEventCenter"),
            Some(Value::Bool(true))
        );
    }

    /// The site of Cisco's LstsummaryUser sample, with its literal admin.
    fn docs_site() -> Site {
        site_for(
            "admincred@acme.com",
            "P@ssword123",
            DEFAULT_TOKEN,
            "jdoe000",
        )
    }

    #[test]
    fn lstsummary_user_sample_filters_by_registration_date() {
        // Cisco's sample asks for users registered 2004-2014; the one user
        // registered today is not among them ("no record found": an empty page).
        let docs = docs_site();
        let name = "requests/LstsummaryUser_cisco_docs.xml";
        let page = docs.answer::<UserPage>(name).unwrap();
        assert!(page.users.is_empty(), "{page:?}");
        // The same request up to 2099 finds the user.
        let wider = docs.fill(name).replace("06/23/2014", "06/23/2099");
        let page = docs.send::<UserPage>(&wider).unwrap();
        let ids: Vec<&str> = page.users.iter().map(|u| u.web_ex_id.as_str()).collect();
        assert_eq!(ids, ["jdoe000"]);
        // A date not in the service's form is refused, not ignored.
        let bad = docs.fill(name).replace("06/23/2004 01:00:00", "2004-06-23");
        let reason = refused(&docs, &bad);
        assert!(reason.contains("regDateStart"), "{reason}");
    }

    /// The reason of a FAILURE the simulator answered.
    fn refused(site: &Site, request: &str) -> String {
        match site.send::<Updated>(request) {
            Ok(_) => panic!("SUCCESS for {request}"),
            Err(e) => e.reason().unwrap_or_default().to_owned(),
        }
    }

    #[test]
    fn elements_the_simulator_does_not_apply_are_named_in_a_failure() {
        let site = default_site();
        // Cisco's LstsummaryUser sample with `listMethod` OR: the simulator
        // joins its filters with AND only.
        let docs = docs_site();
        let or = docs
            .fill("requests/LstsummaryUser_cisco_docs.xml")
            .replace(">AND<", ">OR<");
        let reason = refused(&docs, &or);
        assert!(reason.contains("listMethod"), "{reason}");
        // A SetUser child no catalogue attribute writes.
        let set = site.password_request(
            "java:com.webex.service.binding.user.SetUser",
            "<use:webExId>jdoe000</use:webExId><use:fooBar>1</use:fooBar>",
        );
        let reason = refused(&site, &set);
        assert!(reason.contains("fooBar"), "{reason}");
        // A prefix no one declared and no Webex convention explains.
        let set = site.password_request(
            "java:com.webex.service.binding.user.SetUser",
            "<use:webExId>jdoe000</use:webExId><zz:firstName>X</zz:firstName>",
        );
        let reason = refused(&site, &set);
        assert!(reason.contains("firstName"), "{reason}");
        assert_eq!(
            site.get_user().get("firstName".parse().unwrap()),
            Some(Value::Text("Jane".into()))
        );
    }

    #[test]
    fn a_malformed_request_is_not_called_a_response() {
        let site = default_site();
        let request = site.fill("requests/GetUser_atlas_template.xml");
        let reason = refused(&site, &request.replace("</body>", "</bdy>"));
        assert!(reason.starts_with("Invalid XML request"), "{reason}");
        assert!(!reason.contains("response"), "{reason}");
    }

    #[test]
    fn operations_the_simulator_does_not_speak_are_refused_by_name() {
        let site = default_site();
        for (name, operation) in [
            (
                "requests/CreateMeeting_cisco_postman_enduser.xml",
                "CreateMeeting",
            ),
            (
                "requests/LstsummaryMeeting_cisco_postman_enduser.xml",
                "LstsummaryMeeting",
            ),
            (
                "requests/erolms_meeting_create_meeting_request.xml",
                "CreateMeeting",
            ),
            (
                "requests/erolms_meeting_del_meeting_request.xml",
                "DelMeeting",
            ),
            (
                "requests/erolms_meeting_get_meeting_request.xml",
                "GetMeeting",
            ),
            (
                "requests/erolms_meeting_getjoinurl_meeting_request.xml",
                "GetjoinurlMeeting",
            ),
            ("requests/GetAPIVersion_atlas_template.xml", "GetAPIVersion"),
            (
                "requests/GetSiteAdminNavUrl_atlas_template.xml",
                "GetSiteAdminNavUrl",
            ),
            ("requests/FlushWebCache_atlas_template.xml", "FlushWebCache"),
            ("requests/GetloginurlUser_cisco_docs.xml", "GetloginurlUser"),
        ] {
            let request = site.fill(name);
            let reason = refused(&site, &request);
            assert!(reason.contains(operation), "{name}: {reason}");
            assert!(!reason.contains("response"), "{name}: {reason}");
        }
    }
}
