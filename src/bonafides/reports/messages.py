"""The words a report prints, in Chinese and English.

A plain table rather than gettext catalogues: a report has few fixed strings, they must
be identical in every copy ever rendered, and a test can hold both languages to the same
keys. Titles of record types, fields, lists and departments come from the signed
document, which carries both languages.
"""

from __future__ import annotations

LANGS: tuple[str, ...] = ("zh", "en")

MESSAGES: dict[str, dict[str, str]] = {
    "title.public": {"zh": "公共信用信息报告", "en": "Public credit information report"},
    "title.full": {"zh": "公共信用信息报告（完整版）", "en": "Credit information report (full)"},
    "view.public": {
        "zh": "公开版：仅载明依法公开的信息",
        "en": "Public view: information the law makes public",
    },
    "view.full": {
        "zh": "完整版：载明该受众依法可见的全部信息",
        "en": "Full view: everything this audience may see",
    },
    "audience": {"zh": "受众", "en": "Audience"},
    "audience.public": {"zh": "社会公众", "en": "The public"},
    "audience.subject": {"zh": "信息主体本人", "en": "The subject itself"},
    "audience.authority": {"zh": "共享平台部门", "en": "Authority on the sharing platform"},
    "audience.restricted": {
        "zh": "经批准的查询机关",
        "en": "Authority with an approved application",
    },
    "audience.operator": {"zh": "信用平台运营方", "en": "Platform operator"},
    "number": {"zh": "报告编号", "en": "Report number"},
    "report_id": {"zh": "报告标识", "en": "Report ID"},
    "issued_at": {"zh": "出具时间", "en": "Issued at"},
    "data_as_of": {"zh": "数据截至", "en": "Data as of"},
    "valid_until": {"zh": "有效期至", "en": "Valid until"},
    "period": {"zh": "查询期间", "en": "Period covered"},
    "period.range": {"zh": "{start} 至 {end}", "en": "{start} to {end}"},
    "fields": {"zh": "查询领域", "en": "Fields covered"},
    "fields.all": {"zh": "全部领域", "en": "All fields"},
    "verification_code": {"zh": "验证码", "en": "Verification code"},
    "verify.how": {
        "zh": "扫描二维码或访问 {url}，输入报告标识和验证码，"
        "即可核验本报告真伪及出具后数据是否变化。",
        "en": "Scan the QR code or visit {url} and enter the report ID and verification code "
        "to check this report and whether the data changed since issue.",
    },
    "subject": {"zh": "信息主体", "en": "Subject"},
    "name": {"zh": "名称", "en": "Name"},
    "name_en": {"zh": "英文名称", "en": "English name"},
    "code": {"zh": "统一社会信用代码/身份证件号码", "en": "USCC / ID number"},
    "kind": {"zh": "主体类型", "en": "Kind"},
    "kind.legal_person": {"zh": "法人", "en": "Legal person"},
    "kind.other_org": {"zh": "其他组织", "en": "Other organisation"},
    "kind.individual_business": {"zh": "个体工商户", "en": "Individual business"},
    "kind.government_body": {"zh": "机关", "en": "Government body"},
    "kind.natural_person": {"zh": "自然人", "en": "Natural person"},
    "region": {"zh": "所在地区", "en": "Region"},
    "status": {"zh": "状态", "en": "Status"},
    "subject.status.active": {"zh": "存续", "en": "active"},
    "subject.status.deregistered": {"zh": "注销", "en": "deregistered"},
    "subject.status.revoked": {"zh": "吊销", "en": "licence revoked"},
    "subject.status.suspended": {"zh": "歇业", "en": "suspended"},
    "subject.status.cancelled": {"zh": "撤销登记", "en": "registration cancelled"},
    "subject.status.moved_out": {"zh": "迁出", "en": "moved out"},
    "subject.status.merged": {"zh": "合并", "en": "merged"},
    "former_names": {"zh": "曾用名", "en": "Former names"},
    "summary": {"zh": "概要", "en": "Summary"},
    "summary.records": {"zh": "期间内记录", "en": "Records in the period"},
    "summary.negative": {"zh": "其中失信记录", "en": "of which negative"},
    "summary.lists": {"zh": "名单记录", "en": "List entries"},
    "summary.grades": {"zh": "信用等级", "en": "Grades"},
    "lists": {"zh": "红黑名单", "en": "Red and black lists"},
    "lists.none": {
        "zh": "期间内未列入任何红名单或黑名单。",
        "en": "On no red or black list in the period.",
    },
    "list.kind.red": {"zh": "红名单", "en": "Red list"},
    "list.kind.black": {"zh": "黑名单", "en": "Black list"},
    "list.kind.unknown": {"zh": "名单", "en": "List"},
    "list.valid": {"zh": "列入期间", "en": "Listed"},
    "list.in_force": {"zh": "现行有效", "en": "in force"},
    "list.ended": {"zh": "已届满", "en": "ended"},
    "list.reason": {"zh": "依据", "en": "Why"},
    "grades": {"zh": "信用等级", "en": "Grades"},
    "grades.none": {"zh": "无信用等级评价。", "en": "No grades."},
    "grade.as_of": {"zh": "评价日期", "en": "As of"},
    "grade.rule": {"zh": "评价规则", "en": "Rule"},
    "legal_basis": {"zh": "法律依据", "en": "Legal basis"},
    "records": {"zh": "信用记录", "en": "Credit records"},
    "section.count": {"zh": "{title}（{count}）", "en": "{title} ({count})"},
    "records.none_in": {"zh": "以下领域期间内无记录：", "en": "No records in the period in: "},
    "records.none": {"zh": "期间内无记录。", "en": "No records in the period."},
    "record.status.active": {"zh": "有效", "en": "active"},
    "record.status.under_objection": {"zh": "异议处理中", "en": "under objection"},
    "record.status.corrected": {"zh": "已更正", "en": "corrected"},
    "record.status.revoked": {"zh": "已撤销", "en": "revoked"},
    "record.status.repaired": {"zh": "已信用修复", "en": "repaired"},
    "record.status.expired": {"zh": "已届满", "en": "expired"},
    "record.withheld": {
        "zh": "该记录已完成信用修复，依法不再公示其内容。",
        "en": "Credit repaired: its content is no longer published.",
    },
    "published_until": {"zh": "公示期至", "en": "Published until"},
    "access_log": {"zh": "查询与变更记录", "en": "Access and change log"},
    "access_log.none": {
        "zh": "自查询期间起始日至出具时无查询或变更记录。",
        "en": "Nobody read or changed this file from the start of the period to issue.",
    },
    "access_log.note": {
        "zh": "自查询期间起始日至本报告出具时，查询或变更本主体信用信息的记录。",
        "en": "Who read or changed this file, from the start of the period to the moment of issue.",
    },
    "minor": {
        "zh": "信息主体为未成年人，其信息不予公开。",
        "en": "The subject is a minor: nothing about them is public.",
    },
    "signature.text": {
        "zh": "本报告以 Ed25519 算法签名，密钥标识 {key_id}；"
        "签名数据嵌入本 PDF，公钥见 /api/v1/keys。",
        "en": "Signed with Ed25519, key {key_id}; the signed data is embedded in this PDF and "
        "the public key is published at /api/v1/keys.",
    },
    "disclaimer": {
        "zh": "本报告仅载明信用平台依法归集的信息，不含任何对自然人的综合评分。",
        "en": "This report states only what the platform lawfully holds; it contains no "
        "composite score of any natural person.",
    },
    "page": {"zh": "第 {page} 页，共 {pages} 页", "en": "Page {page} of {pages}"},
    "certificate.title": {"zh": "信用核查证明", "en": "Credit check certificate"},
    "certificate.lead": {
        "zh": "针对下列事项，按照联合奖惩备忘录核查信息主体在核查日适用的措施。",
        "en": "The joint reward and sanction measures that apply to the subject for the action "
        "below on the day checked.",
    },
    "certificate.id": {"zh": "证明编号", "en": "Certificate ID"},
    "certificate.inquirer": {"zh": "查询者", "en": "Inquirer"},
    "certificate.department": {"zh": "查询部门", "en": "Department"},
    "certificate.purpose": {"zh": "查询目的", "en": "Purpose"},
    "certificate.action": {"zh": "核查事项", "en": "Action"},
    "certificate.as_of": {"zh": "核查日", "en": "Checked as of"},
    "certificate.rules": {"zh": "规则版本", "en": "Rules"},
    "certificate.answer": {"zh": "核查结论", "en": "Answer"},
    "check.status.clear": {
        "zh": "未发现适用于该事项的联合奖惩措施。",
        "en": "No measure applies to this action.",
    },
    "check.status.measures_apply": {
        "zh": "以下联合奖惩措施适用于该事项：",
        "en": "These measures apply to this action:",
    },
    "check.status.unknown": {
        "zh": "本平台未归集该主体的信用信息。",
        "en": "This platform holds no decision about this subject.",
    },
    "check.status.invalid": {"zh": "代码无效。", "en": "The code is not valid."},
    "effect.prohibit": {"zh": "禁止", "en": "prohibit"},
    "effect.restrict": {"zh": "限制", "en": "restrict"},
    "effect.scrutinise": {"zh": "重点监管", "en": "scrutinise"},
    "effect.prefer": {"zh": "优先", "en": "prefer"},
    "effect.fast_track": {"zh": "绿色通道", "en": "fast-track"},
    "effect.waive": {"zh": "容缺免审", "en": "waive"},
    "measure.until": {"zh": "适用至", "en": "Until"},
    "measure.department": {"zh": "实施部门", "en": "Implemented by"},
    "measure.entries": {"zh": "所依据的名单", "en": "List entries behind it"},
    "certificate.verify.how": {
        "zh": "扫描二维码或访问 {url}，输入证明编号和验证码，"
        "即可核验本证明真伪及核查结论是否仍然成立。",
        "en": "Scan the QR code or visit {url} and enter the certificate ID and verification "
        "code to check this certificate and whether its answer still holds.",
    },
}


def translate(lang: str, key: str, **values: str) -> str:
    text = MESSAGES[key][lang]
    return text.format(**values) if values else text
