/**
 * Words of the public verification pages: Vietnamese first, English on request (domain.md
 * "Bilingual"). Every message exists in both languages; the type makes a missing one a compile error.
 */
import type { CheckOutcome, IntegrityReason, IssuerReason, StatusReason } from './assessment.ts';

export type Lang = 'vi' | 'en';

export function langOf(query: unknown): Lang {
  return query === 'en' ? 'en' : 'vi';
}

export interface Messages {
  siteTitle: string;
  switchLabel: string;
  switchLang: string;
  valid: string;
  validLead: string;
  annulled: string;
  annulledLead: string;
  notFound: string;
  notFoundLead: string;
  decision: (no: string, date: string) => string;
  reason: string;
  checksHeading: string;
  checkNames: { integrity: string; status: string; issuer: string };
  outcome: Record<CheckOutcome, string>;
  integrity: Record<IntegrityReason, string>;
  status: Record<StatusReason, string>;
  issuer: Record<IssuerReason, string>;
  detailsHeading: string;
  fields: {
    number: string;
    volume: string;
    date: string;
    agency: string;
    certifier: string;
    documentType: string;
    pages: string;
    sha256: string;
    signerCert: string;
    sealCert: string;
    timestamp: string;
  };
  signaturesHeading: string;
  sigKind: { signature: string; 'document-timestamp': string };
  sigChain: (trusted: boolean) => string;
  sigRevocation: string;
  sigTimestamp: string;
  sigResult: string;
  indication: Record<'TOTAL-PASSED' | 'TOTAL-FAILED' | 'INDETERMINATE', string>;
  revocationStatus: Record<'passed' | 'failed' | 'warning' | 'not-checked', string>;
  noSignatures: string;
  fileHeading: string;
  fileLead: string;
  fileLabel: string;
  fileHint: string;
  fileNoJs: string;
  serverButton: string;
  serverHint: string;
  js: {
    hashing: string;
    match: string;
    mismatch: string;
    noCrypto: string;
    sending: string;
    serverPassed: string;
    serverFailed: string;
    serverIndeterminate: string;
    serverNoSignature: string;
    serverError: string;
    serverBusy: string;
    serverTooLarge: string;
    serverNotPdf: string;
    serverOffline: string;
    readError: string;
    chooseFirst: string;
  };
  accessHeading: string;
  accessLead: string;
  accessLabel: string;
  accessButton: string;
  accessWrong: string;
  unlockedHeading: string;
  requester: string;
  documentName: string;
  viewFile: string;
  downloadFile: string;
  linkExpires: (minutes: number) => string;
  entryHeading: string;
  entryLead: string;
  entryLabel: string;
  entryHint: string;
  entryButton: string;
  entryInvalid: string;
  entryLink: string;
  tooManyHeading: string;
  tooMany: (seconds: number) => string;
  fileLinkExpired: string;
  backToEntry: string;
}

const vi: Messages = {
  siteTitle: 'Tra cứu bản sao chứng thực điện tử',
  switchLabel: 'Ngôn ngữ',
  switchLang: 'English',
  valid: 'Còn hiệu lực',
  validLead: 'Bản sao điện tử này đã được chứng thực và đang có giá trị sử dụng.',
  annulled: 'Đã bị hủy bỏ giá trị pháp lý',
  annulledLead: 'Bản sao này không còn giá trị thay thế bản chính.',
  notFound: 'Không tìm thấy',
  notFoundLead: 'Không có bản sao chứng thực nào với mã tra cứu này. Hãy kiểm tra lại mã in dưới mã QR.',
  decision: (no, date) => `Quyết định hủy bỏ số ${no} ngày ${date}`,
  reason: 'Lý do',
  checksHeading: 'Kết quả kiểm tra',
  checkNames: { integrity: 'Tính toàn vẹn của tệp', status: 'Tình trạng trong sổ chứng thực', issuer: 'Cơ quan chứng thực và chữ ký số' },
  outcome: { VALID: 'Đạt', INVALID: 'Không đạt', ERROR: 'Chưa xác định' },
  integrity: {
    intact: 'Tệp bản sao lưu tại cơ quan khớp mã băm SHA-256 đã đăng ký và các chữ ký số trên tệp không bị thay đổi.',
    'hash-differs': 'Tệp lưu tại cơ quan không khớp mã băm đã đăng ký.',
    'signature-broken': 'Chữ ký số trên tệp không khớp với nội dung tệp.',
    'file-missing': 'Không đọc được tệp bản sao lưu tại cơ quan; vui lòng thử lại sau.',
    'not-validated': 'Chưa kiểm tra được chữ ký số trên tệp; vui lòng thử lại sau.',
  },
  status: {
    valid: 'Bản sao đã được ghi vào sổ chứng thực và chưa bị hủy bỏ.',
    annulled: 'Bản sao đã bị hủy bỏ theo quyết định của người có thẩm quyền.',
    'not-found': 'Mã tra cứu không có trong sổ chứng thực.',
  },
  issuer: {
    trusted: 'Chữ ký của người thực hiện chứng thực và con dấu của cơ quan thuộc chuỗi chứng thư số tin cậy, còn hiệu lực tại thời điểm ký.',
    untrusted: 'Chữ ký số không thuộc chuỗi chứng thư số tin cậy.',
    revoked: 'Chứng thư số của người ký đã bị thu hồi.',
    indeterminate: 'Chưa đủ thông tin để xác nhận chứng thư số của người ký.',
    'not-validated': 'Chưa kiểm tra được chứng thư số; vui lòng thử lại sau.',
  },
  detailsHeading: 'Thông tin chứng thực',
  fields: {
    number: 'Số chứng thực',
    volume: 'Quyển số',
    date: 'Ngày chứng thực',
    agency: 'Cơ quan thực hiện chứng thực',
    certifier: 'Người thực hiện chứng thực',
    documentType: 'Loại giấy tờ',
    pages: 'Số trang bản chính',
    sha256: 'Mã băm SHA-256 của bản sao',
    signerCert: 'Chứng thư số của người ký',
    sealCert: 'Chứng thư số của cơ quan (con dấu)',
    timestamp: 'Dấu thời gian',
  },
  signaturesHeading: 'Chữ ký số trên bản sao',
  sigKind: { signature: 'Chữ ký', 'document-timestamp': 'Dấu thời gian tài liệu' },
  sigChain: (t) => (t ? 'Chuỗi chứng thư đến gốc tin cậy: có' : 'Chuỗi chứng thư đến gốc tin cậy: không'),
  sigRevocation: 'Tình trạng thu hồi tại thời điểm ký',
  sigTimestamp: 'Thời điểm gắn dấu thời gian',
  sigResult: 'Kết quả',
  indication: { 'TOTAL-PASSED': 'Hợp lệ', 'TOTAL-FAILED': 'Không hợp lệ', INDETERMINATE: 'Chưa xác định' },
  revocationStatus: { passed: 'chưa bị thu hồi', failed: 'bị thu hồi hoặc không xác minh được', warning: 'có cảnh báo', 'not-checked': 'không kiểm tra' },
  noSignatures: 'Chưa có thông tin chữ ký.',
  fileHeading: 'Kiểm tra tệp bạn đang giữ',
  fileLead: 'Chọn hoặc kéo thả tệp PDF bạn nhận được. Trình duyệt tự tính mã băm SHA-256 ngay trên máy của bạn; tệp không được gửi đi.',
  fileLabel: 'Tệp PDF cần kiểm tra',
  fileHint: 'Kéo thả tệp vào đây hoặc bấm để chọn.',
  fileNoJs: 'Trình duyệt của bạn đang tắt JavaScript nên không so khớp được ngay trên máy; bạn vẫn có thể gửi tệp để máy chủ kiểm tra chữ ký.',
  serverButton: 'Gửi tệp để máy chủ kiểm tra chữ ký số',
  serverHint: 'Chỉ khi bấm nút này tệp mới được gửi lên máy chủ để kiểm tra đầy đủ các chữ ký.',
  js: {
    hashing: 'Đang tính mã băm…',
    match: 'Khớp: tệp này đúng là bản sao đã được chứng thực.',
    mismatch: 'Không khớp: tệp này không phải bản sao đã đăng ký (có thể đã bị sửa đổi).',
    noCrypto: 'Trình duyệt này không tính được mã băm (cần kết nối HTTPS). Hãy dùng nút gửi tệp bên dưới.',
    sending: 'Đang gửi tệp và kiểm tra chữ ký…',
    serverPassed: 'Máy chủ: mọi chữ ký số trên tệp đều hợp lệ.',
    serverFailed: 'Máy chủ: chữ ký số trên tệp không hợp lệ.',
    serverIndeterminate: 'Máy chủ: chưa xác định được hiệu lực của chữ ký.',
    serverNoSignature: 'Máy chủ: tệp không có chữ ký số.',
    serverError: 'Máy chủ không kiểm tra được tệp này.',
    serverBusy: 'Máy chủ đang nhận quá nhiều yêu cầu. Vui lòng đợi {s} giây rồi thử lại.',
    serverTooLarge: 'Tệp quá lớn để gửi lên máy chủ.',
    serverNotPdf: 'Máy chủ: tệp này không phải tệp PDF.',
    serverOffline: 'Không kết nối được máy chủ. Hãy kiểm tra kết nối mạng rồi thử lại.',
    readError: 'Trình duyệt không đọc được tệp này (tệp có thể quá lớn hoặc đã bị di chuyển).',
    chooseFirst: 'Hãy chọn tệp PDF trước.',
  },
  accessHeading: 'Xem hoặc tải bản sao',
  accessLead: 'Nhập mã truy cập in trên bản sao để xem tên người yêu cầu và tải tệp đã đăng ký.',
  accessLabel: 'Mã truy cập',
  accessButton: 'Mở bản sao',
  accessWrong: 'Mã truy cập không đúng.',
  unlockedHeading: 'Bản sao đã đăng ký',
  requester: 'Người yêu cầu chứng thực',
  documentName: 'Tên giấy tờ',
  viewFile: 'Xem tệp PDF',
  downloadFile: 'Tải tệp PDF',
  linkExpires: (m) => `Đường dẫn có hiệu lực trong ${m} phút.`,
  entryHeading: 'Nhập mã tra cứu',
  entryLead: 'Dùng trang này nếu bạn không quét được mã QR: nhập mã tra cứu in bên cạnh mã QR trên bản sao.',
  entryLabel: 'Mã tra cứu',
  entryHint: '32 ký tự gồm chữ A–Z và số 2–7.',
  entryButton: 'Tra cứu',
  entryInvalid: 'Mã tra cứu gồm đúng 32 ký tự A–Z, 2–7. Vui lòng kiểm tra lại.',
  entryLink: 'Nhập mã tra cứu khác',
  tooManyHeading: 'Quá nhiều yêu cầu',
  tooMany: (s) => `Bạn đã thử quá nhiều lần. Vui lòng đợi ${s} giây rồi thử lại.`,
  fileLinkExpired: 'Đường dẫn tải tệp đã hết hạn hoặc không hợp lệ. Hãy nhập lại mã truy cập.',
  backToEntry: 'Về trang tra cứu',
};

const en: Messages = {
  siteTitle: 'Certified electronic copy verification',
  switchLabel: 'Language',
  switchLang: 'Tiếng Việt',
  valid: 'Valid',
  validLead: 'This electronic copy has been certified and is in force.',
  annulled: 'Annulled — no longer legally valid',
  annulledLead: 'This copy no longer stands in for the original.',
  notFound: 'Not found',
  notFoundLead: 'No certified copy has this verification code. Check the code printed next to the QR code.',
  decision: (no, date) => `Annulment decision no. ${no} of ${date}`,
  reason: 'Reason',
  checksHeading: 'Checks',
  checkNames: { integrity: 'File integrity', status: 'Status in the register', issuer: 'Certifying agency and digital signatures' },
  outcome: { VALID: 'VALID', INVALID: 'INVALID', ERROR: 'ERROR' },
  integrity: {
    intact: 'The copy kept by the agency matches the registered SHA-256 hash and its digital signatures are unaltered.',
    'hash-differs': 'The file kept by the agency does not match the registered hash.',
    'signature-broken': 'A digital signature on the file does not match its content.',
    'file-missing': 'The stored copy could not be read; please try again later.',
    'not-validated': 'The signatures could not be checked yet; please try again later.',
  },
  status: {
    valid: 'The copy is entered in the certification register and has not been annulled.',
    annulled: 'The copy was annulled by decision of the competent authority.',
    'not-found': 'The verification code is not in the register.',
  },
  issuer: {
    trusted: "The certifier's signature and the agency seal chain to a trusted root and were valid when signed.",
    untrusted: 'A signature does not chain to a trusted root.',
    revoked: "The signer's certificate has been revoked.",
    indeterminate: "There is not enough information to confirm the signer's certificate.",
    'not-validated': 'The certificates could not be checked yet; please try again later.',
  },
  detailsHeading: 'Certification details',
  fields: {
    number: 'Certification number',
    volume: 'Register volume',
    date: 'Date of certification',
    agency: 'Certifying agency',
    certifier: 'Certifier',
    documentType: 'Document type',
    pages: 'Pages of the original',
    sha256: 'SHA-256 of the certified copy',
    signerCert: "Signer's certificate",
    sealCert: 'Agency (seal) certificate',
    timestamp: 'Timestamp',
  },
  signaturesHeading: 'Digital signatures on the copy',
  sigKind: { signature: 'Signature', 'document-timestamp': 'Document timestamp' },
  sigChain: (t) => (t ? 'Chain to a trusted root: yes' : 'Chain to a trusted root: no'),
  sigRevocation: 'Revocation status at signing time',
  sigTimestamp: 'Time-stamped at',
  sigResult: 'Result',
  indication: { 'TOTAL-PASSED': 'Valid', 'TOTAL-FAILED': 'Not valid', INDETERMINATE: 'Indeterminate' },
  revocationStatus: { passed: 'not revoked', failed: 'revoked or not verifiable', warning: 'with a warning', 'not-checked': 'not checked' },
  noSignatures: 'No signature information yet.',
  fileHeading: 'Check the file you hold',
  fileLead: 'Choose or drop the PDF you received. Your browser computes its SHA-256 hash on your device; the file is not sent anywhere.',
  fileLabel: 'PDF file to check',
  fileHint: 'Drop the file here or click to choose it.',
  fileNoJs: 'JavaScript is off, so the file cannot be compared on your device; you can still send it for a signature check on the server.',
  serverButton: 'Send the file for a signature check on the server',
  serverHint: 'Only this button sends the file to the server, for a full validation of its signatures.',
  js: {
    hashing: 'Computing the hash…',
    match: 'Match: this file is exactly the certified copy.',
    mismatch: 'No match: this file is not the registered copy (it may have been altered).',
    noCrypto: 'This browser cannot compute the hash (an HTTPS connection is needed). Use the button below instead.',
    sending: 'Sending the file and checking its signatures…',
    serverPassed: 'Server: every digital signature on the file is valid.',
    serverFailed: 'Server: a digital signature on the file is not valid.',
    serverIndeterminate: 'Server: the validity of a signature could not be established.',
    serverNoSignature: 'Server: the file has no digital signature.',
    serverError: 'The server could not check this file.',
    serverBusy: 'The server is receiving too many requests. Please wait {s} seconds and try again.',
    serverTooLarge: 'The file is too large to send to the server.',
    serverNotPdf: 'Server: this file is not a PDF.',
    serverOffline: 'The server cannot be reached. Check your connection and try again.',
    readError: 'The browser cannot read this file (it may be too large, or it was moved).',
    chooseFirst: 'Choose a PDF file first.',
  },
  accessHeading: 'View or download the copy',
  accessLead: "Enter the access code printed on the copy to see the requester's name and download the registered file.",
  accessLabel: 'Access code',
  accessButton: 'Open the copy',
  accessWrong: 'The access code is not correct.',
  unlockedHeading: 'The registered copy',
  requester: 'Requested by',
  documentName: 'Document',
  viewFile: 'View the PDF',
  downloadFile: 'Download the PDF',
  linkExpires: (m) => `These links work for ${m} minutes.`,
  entryHeading: 'Enter a verification code',
  entryLead: 'Use this page if you cannot scan the QR code: type the verification code printed next to it on the copy.',
  entryLabel: 'Verification code',
  entryHint: '32 characters: letters A–Z and digits 2–7.',
  entryButton: 'Verify',
  entryInvalid: 'A verification code has exactly 32 characters A–Z, 2–7. Please check it.',
  entryLink: 'Enter another code',
  tooManyHeading: 'Too many requests',
  tooMany: (s) => `Too many attempts. Please wait ${s} seconds and try again.`,
  fileLinkExpired: 'The download link has expired or is not valid. Please enter the access code again.',
  backToEntry: 'Back to verification',
};

export const MESSAGES: Record<Lang, Messages> = { vi, en };
