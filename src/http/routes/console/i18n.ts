/**
 * Words of the officer console and the public report page: Vietnamese first, English with ?lang=en.
 * `js` holds what the browser script needs (embedded in the page as JSON data, never as script).
 * Every message exists in both languages; the type makes a missing one a compile error.
 */
import { PASSWORD_MIN_LENGTH } from '../../../registry/index.ts';
import type { Lang } from '../verification/i18n.ts';

export type { Lang };

/**
 * Problem codes (RFC 9457 `code`) the pages explain in their own words, in the page's language; the
 * problem's `detail` is English and is shown only for codes not listed here. `{s}` stands for the
 * problem's `retryAfterSeconds`.
 */
export const EXPLAINED_PROBLEMS = [
  'login-failed', 'account-locked', 'too-many-requests', 'rate-limited', 'csrf-failed', 'unauthenticated', 'forbidden-scope',
  'current-password-wrong', 'password-too-weak', 'password-too-long', 'invalid-username', 'username-taken', 'own-account',
  'signing-key-taken', 'signing-key-is-seal', 'signing-key-name-mismatch', 'signing-key-not-allowed', 'invalid-cidr', 'invalid-scopes',
  'officer-has-no-signing-key', 'certifier-name-mismatch', 'scan-too-large', 'scan-too-many-pages', 'scan-too-many-pixels',
  'scan-too-many-annotations', 'scan-unsupported-type', 'scan-corrupt', 'scan-encrypted', 'scan-empty', 'scan-decoder-failed', 'server-busy', 'too-many-files',
  'idempotency-key-in-progress', 'hsm-unavailable', 'revocation-unavailable', 'tsa-unreachable', 'tsa-timeout',
  'copy-already-annulled', 'copy-not-found', 'copy-not-issued', 'body-too-large', 'not-a-pdf', 'file-missing',
  'unsupported-media-type', 'invalid-multipart', 'validation-timeout', 'validation-failed', 'validation-unavailable',
  'internal-error', 'invalid-parameters',
] as const;
export type ExplainedProblem = (typeof EXPLAINED_PROBLEMS)[number];

export interface ConsoleMessages {
  consoleTitle: string;
  reportTitle: string;
  switchLabel: string;
  switchLang: string;
  navLabel: string;
  nav: { certify: string; today: string; search: string; admin: string; account: string; report: string; logout: string };
  // account
  accountLead: string;
  currentPassword: string;
  changePasswordButton: string;
  signedInAs: (name: string, role: string) => string;
  roles: { officer: string; supervisor: string; admin: string };
  noScript: string;
  required: string;
  // login
  loginHeading: string;
  loginLead: string;
  username: string;
  password: string;
  loginButton: string;
  // certify
  certifyHeading: string;
  filesHeading: string;
  filesLead: string;
  chooseFiles: string;
  filesHint: string;
  fileListLabel: string;
  previewHeading: string;
  previewLead: string;
  previewButton: string;
  metaHeading: string;
  documentType: string;
  documentTypeHint: string;
  documentTypes: readonly string[];
  originalIssuer: string;
  requesterName: string;
  originalPages: string;
  copies: string;
  caseCode: string;
  receivingSite: string;
  notes: string;
  optional: string;
  certifyButton: string;
  refuseHeading: string;
  refuseLead: string;
  ground: string;
  grounds: Record<RefusalGround, string>;
  refuseReason: string;
  refuseButton: string;
  resultHeading: string;
  accessOnce: string;
  // today & search
  todayHeading: string;
  todayLead: string;
  searchHeading: string;
  searchLead: string;
  number: string;
  code: string;
  from: string;
  to: string;
  status: string;
  anyStatus: string;
  statuses: { valid: string; annulled: string; void: string };
  searchButton: string;
  moreButton: string;
  col: { number: string; time: string; documentType: string; requester: string; certifier: string; status: string; code: string; actions: string };
  annulHeading: string;
  annulLead: string;
  decisionNumber: string;
  decisionDate: string;
  annulReason: string;
  annulButton: string;
  // admin
  adminHeading: string;
  officersHeading: string;
  newOfficer: string;
  displayName: string;
  title: string;
  role: string;
  signingKey: string;
  noSigningKey: string;
  signingKeyHint: string;
  editOfficer: string;
  saveButton: string;
  initialPassword: string;
  passwordHint: (min: number) => string;
  createButton: string;
  keysHeading: string;
  newKey: string;
  keyName: string;
  scopes: string;
  cidrs: string;
  cidrsHint: string;
  // report
  reportHeading: string;
  reportLead: string;
  reportFile: string;
  reportHint: string;
  reportButton: string;
  reportPrivacy: string;
  verdictHeading: string;
  indication: Record<'TOTAL-PASSED' | 'TOTAL-FAILED' | 'INDETERMINATE' | 'NO_SIGNATURE', string>;
  indicationLead: Record<'TOTAL-PASSED' | 'TOTAL-FAILED' | 'INDETERMINATE' | 'NO_SIGNATURE', string>;
  fileLabel: string;
  validatedAt: string;
  policy: string;
  documentError: string;
  sigHeading: (n: number, kind: 'signature' | 'document-timestamp') => string;
  signer: string;
  issuer: string;
  signingTime: string;
  timeProven: string;
  timeClaimed: string;
  level: string;
  coversWhole: string;
  yes: string;
  no: string;
  checksCaption: string;
  checkCol: string;
  resultCol: string;
  detailCol: string;
  checkStatus: Record<'passed' | 'failed' | 'warning' | 'not-checked', string>;
  changesHeading: string;
  noChanges: string;
  revision: (i: number) => string;
  changeAllowed: string;
  changeNotAllowed: string;
  anotherFile: string;
  tooManyHeading: string;
  tooMany: (s: number) => string;
  errorHeading: string;
  problems: Record<ExplainedProblem, string>;
  js: Record<string, string>;
}

export const REFUSAL_GROUNDS = ['altered', 'illegible', 'state-secret', 'unlawful-content', 'foreign-not-legalised', 'unstamped-private-paper', 'other'] as const;
export type RefusalGround = (typeof REFUSAL_GROUNDS)[number];

const vi: ConsoleMessages = {
  consoleTitle: 'Chứng thực điện tử — Bàn làm việc',
  reportTitle: 'Kiểm tra chữ ký số',
  switchLabel: 'Ngôn ngữ',
  switchLang: 'English',
  navLabel: 'Chức năng',
  nav: { certify: 'Chứng thực', today: 'Hôm nay', search: 'Tra cứu sổ', admin: 'Quản trị', account: 'Tài khoản', report: 'Kiểm tra chữ ký', logout: 'Đăng xuất' },
  accountLead: 'Đổi mật khẩu của bạn. Mọi phiên đăng nhập khác của tài khoản sẽ kết thúc.',
  currentPassword: 'Mật khẩu hiện tại',
  changePasswordButton: 'Đổi mật khẩu',
  signedInAs: (name, role) => `${name} (${role})`,
  roles: { officer: 'cán bộ', supervisor: 'lãnh đạo', admin: 'quản trị' },
  noScript: 'Trang này cần JavaScript để gọi dịch vụ. Hãy bật JavaScript.',
  required: 'bắt buộc',
  loginHeading: 'Đăng nhập',
  loginLead: 'Dành cho cán bộ bộ phận một cửa.',
  username: 'Tên đăng nhập',
  password: 'Mật khẩu',
  loginButton: 'Đăng nhập',
  certifyHeading: 'Chứng thực bản sao điện tử từ bản chính',
  filesHeading: '1. Bản quét',
  filesLead: 'Kéo thả hoặc chọn các tệp (PDF, JPEG, PNG, TIFF) theo thứ tự trang.',
  chooseFiles: 'Chọn tệp',
  filesHint: 'Có thể chọn nhiều tệp; dùng nút ↑ ↓ để đổi thứ tự.',
  fileListLabel: 'Các tệp đã chọn',
  previewHeading: '2. Xem trước',
  previewLead: 'Khung đỏ là vị trí lời chứng và chữ ký trên trang cuối.',
  previewButton: 'Xem trước',
  metaHeading: '3. Thông tin chứng thực',
  documentType: 'Loại giấy tờ',
  documentTypeHint: 'Ví dụ: Giấy khai sinh, Bằng tốt nghiệp',
  documentTypes: ['Giấy khai sinh', 'Căn cước công dân', 'Bằng tốt nghiệp', 'Giấy chứng nhận quyền sử dụng đất', 'Sổ hộ khẩu', 'Giấy đăng ký kết hôn'],
  originalIssuer: 'Cơ quan cấp bản chính',
  requesterName: 'Người yêu cầu chứng thực',
  originalPages: 'Số trang bản chính',
  copies: 'Số bản sao',
  caseCode: 'Mã hồ sơ',
  receivingSite: 'Nơi tiếp nhận',
  notes: 'Ghi chú',
  optional: 'không bắt buộc',
  certifyButton: 'Chứng thực và ký số',
  refuseHeading: 'Từ chối chứng thực',
  refuseLead: 'Ghi lý do từ chối vào sổ (Nghị định 23/2015/NĐ-CP, Điều 22).',
  ground: 'Căn cứ từ chối',
  grounds: {
    altered: 'Bản chính bị tẩy xóa, sửa chữa, thêm, bớt nội dung',
    illegible: 'Bản chính bị hư hỏng, cũ nát, không xác định được nội dung',
    'state-secret': 'Bản chính có đóng dấu mật',
    'unlawful-content': 'Nội dung trái pháp luật, đạo đức xã hội',
    'foreign-not-legalised': 'Giấy tờ nước ngoài chưa hợp pháp hóa lãnh sự',
    'unstamped-private-paper': 'Giấy tờ do cá nhân tự lập, không có xác nhận',
    other: 'Lý do khác',
  },
  refuseReason: 'Lý do cụ thể',
  refuseButton: 'Ghi nhận từ chối',
  resultHeading: 'Đã chứng thực',
  accessOnce: 'Mã truy cập chỉ hiển thị ở đây một lần. Mã được in trên bản sao; nếu mẫu lời chứng của cơ quan bỏ dòng này, hãy giao mã cho người yêu cầu.',
  todayHeading: 'Công việc hôm nay',
  todayLead: 'Các bản sao đã chứng thực hôm nay tại đơn vị của bạn.',
  searchHeading: 'Tra cứu sổ chứng thực',
  searchLead: 'Tìm theo số chứng thực, mã tra cứu, khoảng ngày hoặc mã hồ sơ (chỉ trong đơn vị của bạn).',
  number: 'Số chứng thực',
  code: 'Mã tra cứu',
  from: 'Từ ngày',
  to: 'Đến ngày',
  status: 'Tình trạng',
  anyStatus: 'Tất cả',
  statuses: { valid: 'Còn hiệu lực', annulled: 'Đã hủy bỏ', void: 'Vô hiệu' },
  searchButton: 'Tìm',
  moreButton: 'Xem thêm',
  col: { number: 'Số', time: 'Thời điểm', documentType: 'Loại giấy tờ', requester: 'Người yêu cầu', certifier: 'Người chứng thực', status: 'Tình trạng', code: 'Mã tra cứu', actions: 'Thao tác' },
  annulHeading: 'Hủy bỏ bản sao đã chứng thực',
  annulLead: 'Chỉ lãnh đạo mới hủy bỏ được; cần số và ngày quyết định.',
  decisionNumber: 'Số quyết định',
  decisionDate: 'Ngày quyết định',
  annulReason: 'Lý do hủy bỏ',
  annulButton: 'Hủy bỏ giá trị',
  adminHeading: 'Quản trị đơn vị',
  officersHeading: 'Tài khoản cán bộ',
  newOfficer: 'Tạo tài khoản',
  displayName: 'Họ và tên',
  title: 'Chức danh',
  role: 'Vai trò',
  signingKey: 'Khóa ký (nhãn HSM)',
  noSigningKey: '— Không gán —',
  editOfficer: 'Sửa tài khoản',
  saveButton: 'Lưu',
  signingKeyHint: 'Các khóa của cơ quan chưa gán cho cán bộ nào (chungthuc tenant allow-key). Khóa dấu của cơ quan không là khóa cá nhân.',
  initialPassword: 'Mật khẩu ban đầu',
  passwordHint: (min) => `Ít nhất ${min} ký tự.`,
  createButton: 'Tạo',
  keysHeading: 'Khóa API',
  newKey: 'Tạo khóa API',
  keyName: 'Tên khóa',
  scopes: 'Quyền',
  cidrs: 'Địa chỉ được phép (CIDR)',
  cidrsHint: 'Cách nhau bởi dấu phẩy; để trống = mọi địa chỉ.',
  reportHeading: 'Kiểm tra chữ ký số trên tệp PDF',
  reportLead: 'Chọn hoặc kéo thả một tệp PDF đã ký để xem từng chữ ký có hợp lệ không và tệp có bị sửa sau khi ký không.',
  reportFile: 'Tệp PDF',
  reportHint: 'Tối đa một tệp; tệp bị xóa ngay sau khi kiểm tra.',
  reportButton: 'Kiểm tra',
  reportPrivacy: 'Tệp được gửi đến máy chủ này để kiểm tra, không lưu lại.',
  verdictHeading: 'Kết luận',
  indication: { 'TOTAL-PASSED': 'Hợp lệ', 'TOTAL-FAILED': 'Không hợp lệ', INDETERMINATE: 'Chưa xác định', NO_SIGNATURE: 'Không có chữ ký' },
  indicationLead: {
    'TOTAL-PASSED': 'Mọi chữ ký hợp lệ và tệp không bị sửa đổi trái phép sau khi ký.',
    'TOTAL-FAILED': 'Có chữ ký không hợp lệ hoặc tệp đã bị sửa sau khi ký.',
    INDETERMINATE: 'Chưa đủ thông tin để kết luận (ví dụ: không kiểm tra được tình trạng chứng thư).',
    NO_SIGNATURE: 'Tệp này không có chữ ký số.',
  },
  fileLabel: 'Tệp',
  validatedAt: 'Thời điểm kiểm tra',
  policy: 'Chính sách',
  documentError: 'Không đọc được tệp',
  sigHeading: (n, kind) => `${kind === 'signature' ? 'Chữ ký' : 'Dấu thời gian tài liệu'} ${n}`,
  signer: 'Người ký',
  issuer: 'Tổ chức cấp chứng thư',
  signingTime: 'Thời điểm ký',
  timeProven: 'có dấu thời gian chứng minh',
  timeClaimed: 'theo khai báo, chưa được chứng minh',
  level: 'Mức chữ ký',
  coversWhole: 'Bao trùm toàn bộ tệp',
  yes: 'Có',
  no: 'Không',
  checksCaption: 'Các bước kiểm tra',
  checkCol: 'Kiểm tra',
  resultCol: 'Kết quả',
  detailCol: 'Chi tiết',
  checkStatus: { passed: 'Đạt', failed: 'Không đạt', warning: 'Cảnh báo', 'not-checked': 'Chưa kiểm tra' },
  changesHeading: 'Thay đổi sau khi ký',
  noChanges: 'Không có thay đổi nào sau chữ ký.',
  revision: (i) => `Lần cập nhật ${i}`,
  changeAllowed: 'được phép',
  changeNotAllowed: 'KHÔNG được phép',
  anotherFile: 'Kiểm tra tệp khác',
  tooManyHeading: 'Quá nhiều yêu cầu',
  tooMany: (s) => `Vui lòng thử lại sau ${s} giây.`,
  errorHeading: 'Không kiểm tra được',
  problems: {
    'login-failed': 'Sai tên đăng nhập hoặc mật khẩu.',
    'account-locked': 'Tài khoản tạm bị khóa vì nhập sai mật khẩu nhiều lần. Thử lại sau {s} giây.',
    'too-many-requests': 'Có quá nhiều lần xác thực không thành công từ máy này. Thử lại sau {s} giây.',
    'rate-limited': 'Quá nhiều yêu cầu. Vui lòng thử lại sau {s} giây.',
    'csrf-failed': 'Trang không còn khớp với phiên đăng nhập. Hãy tải lại trang rồi thử lại.',
    unauthenticated: 'Phiên đăng nhập đã kết thúc. Hãy đăng nhập lại.',
    'forbidden-scope': 'Vai trò của bạn không được phép làm việc này.',
    'current-password-wrong': 'Mật khẩu hiện tại không đúng.',
    'password-too-weak': `Mật khẩu phải có ít nhất ${PASSWORD_MIN_LENGTH} ký tự.`,
    'password-too-long': 'Mật khẩu quá dài.',
    'invalid-username': 'Tên đăng nhập gồm 3–64 ký tự a–z, 0–9, dấu chấm, gạch dưới hoặc gạch ngang.',
    'username-taken': 'Tên đăng nhập này đã được dùng.',
    'own-account': 'Quản trị viên không thể tự khóa hoặc hạ vai trò tài khoản của chính mình.',
    'signing-key-taken': 'Khóa ký này đã được gán cho một cán bộ khác.',
    'signing-key-is-seal': 'Khóa dấu của cơ quan không thể là khóa cá nhân.',
    'signing-key-name-mismatch': 'Họ tên trong chứng thư số của khóa ký khác họ tên của cán bộ.',
    'signing-key-not-allowed': 'Cơ quan không được phép dùng khóa ký này.',
    'invalid-cidr': 'Địa chỉ được phép phải là địa chỉ IPv4/IPv6 hoặc khối CIDR.',
    'invalid-scopes': 'Hãy chọn ít nhất một quyền.',
    'officer-has-no-signing-key': 'Tài khoản của bạn chưa được gán khóa ký cá nhân; hãy liên hệ quản trị viên.',
    'certifier-name-mismatch': 'Họ tên của bạn khác họ tên trong chứng thư số của khóa ký; hãy liên hệ quản trị viên.',
    'scan-too-large': 'Bản quét quá lớn.',
    'scan-too-many-pages': 'Bản quét có quá nhiều trang.',
    'scan-too-many-pixels': 'Một trang của bản quét có quá nhiều điểm ảnh.',
    'scan-too-many-annotations': 'Một trang PDF có quá nhiều chú thích.',
    'scan-unsupported-type': 'Định dạng tệp không được hỗ trợ (chỉ nhận PDF, JPEG, PNG, TIFF).',
    'scan-corrupt': 'Tệp quét bị hỏng hoặc không đọc được.',
    'scan-encrypted': 'Tệp PDF đã bị mã hóa; hãy dùng bản không đặt mật khẩu.',
    'scan-empty': 'Chưa có tệp quét nào.',
    'scan-decoder-failed': 'Không xử lý được tệp quét (tệp hỏng hoặc quá phức tạp); hãy quét lại, tốt nhất ở dạng JPEG.',
    'server-busy': 'Máy chủ đang bận với nhiều yêu cầu khác; hãy thử lại sau ít phút.',
    'too-many-files': 'Quá nhiều tệp trong một lần gửi.',
    'idempotency-key-in-progress': 'Yêu cầu trước vẫn đang được xử lý; hãy đợi giây lát.',
    'hsm-unavailable': 'Thiết bị ký số (HSM) tạm thời không sẵn sàng; hãy thử lại sau.',
    'revocation-unavailable': 'Không kiểm tra được tình trạng thu hồi chứng thư số; hãy thử lại sau.',
    'tsa-unreachable': 'Không kết nối được dịch vụ cấp dấu thời gian; hãy thử lại sau.',
    'tsa-timeout': 'Dịch vụ cấp dấu thời gian không trả lời kịp; hãy thử lại sau.',
    'copy-already-annulled': 'Bản sao này đã bị hủy bỏ trước đó.',
    'copy-not-found': 'Không tìm thấy bản sao trong sổ của đơn vị.',
    'copy-not-issued': 'Số chứng thực này không có bản sao (số vô hiệu hoặc đang giữ).',
    'body-too-large': 'Tệp gửi lên quá lớn.',
    'not-a-pdf': 'Tệp này không phải tệp PDF (không bắt đầu bằng %PDF-).',
    'file-missing': 'Chưa có tệp PDF nào được gửi.',
    'unsupported-media-type': 'Dữ liệu gửi lên không đúng định dạng.',
    'invalid-multipart': 'Dữ liệu gửi lên bị lỗi; hãy thử lại.',
    'validation-timeout': 'Tệp này cần quá nhiều thời gian để kiểm tra.',
    'validation-failed': 'Không kiểm tra được tệp này.',
    'validation-unavailable': 'Dịch vụ kiểm tra chữ ký tạm thời không sẵn sàng; hãy thử lại sau.',
    'internal-error': 'Máy chủ gặp lỗi; hãy thử lại sau. Nếu lỗi lặp lại, hãy báo quản trị viên kèm mã yêu cầu.',
    'invalid-parameters': 'Thông tin chưa hợp lệ',
  },
  js: {
    loginFailed: 'Đăng nhập không thành công.',
    networkError: 'Không kết nối được máy chủ.',
    httpError: 'Máy chủ trả lời lỗi HTTP {status}; hãy thử lại sau.',
    uploading: 'Đang tải lên',
    signing: 'Đang ký số và đóng dấu thời gian…',
    previewing: 'Đang tạo bản xem trước…',
    noFiles: 'Hãy chọn ít nhất một tệp.',
    badType: 'Chỉ nhận PDF, JPEG, PNG, TIFF',
    up: 'Lên',
    down: 'Xuống',
    remove: 'Bỏ',
    page: 'Trang',
    stamp: 'Vị trí lời chứng',
    number: 'Số chứng thực',
    volume: 'Quyển số',
    publicCode: 'Mã tra cứu',
    accessCode: 'Mã truy cập',
    verifyLink: 'Trang kiểm tra công khai',
    download: 'Tải bản sao (PDF)',
    newCopy: 'Chứng thực bản khác',
    refused: 'Đã ghi nhận việc từ chối vào sổ.',
    loading: 'Đang tải…',
    empty: 'Không có bản ghi nào.',
    annul: 'Hủy bỏ',
    annulled: 'Đã hủy bỏ bản sao.',
    pdf: 'PDF',
    cancel: 'Đóng',
    disable: 'Khóa',
    enable: 'Mở khóa',
    resetPassword: 'Đặt lại mật khẩu',
    edit: 'Sửa',
    newPassword: 'Mật khẩu mới',
    resetConfirm: 'Tạo mật khẩu mới cho tài khoản này? Các phiên đăng nhập của tài khoản sẽ kết thúc. Tài khoản:',
    passwordOnce: 'Mật khẩu mới chỉ hiển thị một lần — hãy trao cho cán bộ qua kênh an toàn. Tài khoản:',
    revoke: 'Thu hồi',
    revoked: 'Đã thu hồi',
    active: 'Đang hoạt động',
    disabled: 'Đã khóa',
    keyOnce: 'Khóa API chỉ hiển thị một lần — hãy lưu lại ngay:',
    saved: 'Đã lưu.',
    passwordChanged: 'Đã đổi mật khẩu. Các phiên đăng nhập khác đã kết thúc.',
    confirmRevoke: 'Thu hồi khóa này? Các hệ thống dùng khóa sẽ ngừng hoạt động.',
    'st-valid': 'Còn hiệu lực',
    'st-annulled': 'Đã hủy bỏ',
    'st-void': 'Vô hiệu',
    'st-reserved': 'Đã giữ số',
    'role-officer': 'cán bộ',
    'role-supervisor': 'lãnh đạo',
    'role-admin': 'quản trị',
  },
};

const en: ConsoleMessages = {
  consoleTitle: 'Electronic certification — officer console',
  reportTitle: 'Signature check',
  switchLabel: 'Language',
  switchLang: 'Tiếng Việt',
  navLabel: 'Sections',
  nav: { certify: 'Certify', today: 'Today', search: 'Register', admin: 'Administration', account: 'Account', report: 'Check a signature', logout: 'Sign out' },
  accountLead: 'Change your password. Every other session of your account ends.',
  currentPassword: 'Current password',
  changePasswordButton: 'Change password',
  signedInAs: (name, role) => `${name} (${role})`,
  roles: { officer: 'officer', supervisor: 'supervisor', admin: 'administrator' },
  noScript: 'This page needs JavaScript to call the service. Please enable JavaScript.',
  required: 'required',
  loginHeading: 'Sign in',
  loginLead: 'For the one-stop-shop officers.',
  username: 'User name',
  password: 'Password',
  loginButton: 'Sign in',
  certifyHeading: 'Certify an electronic copy from the original',
  filesHeading: '1. Scan',
  filesLead: 'Drag and drop or choose the files (PDF, JPEG, PNG, TIFF) in page order.',
  chooseFiles: 'Choose files',
  filesHint: 'Several files may be chosen; use ↑ ↓ to reorder them.',
  fileListLabel: 'Chosen files',
  previewHeading: '2. Preview',
  previewLead: 'The red frame is where the certification statement and signature go on the last page.',
  previewButton: 'Preview',
  metaHeading: '3. Certification details',
  documentType: 'Document type',
  documentTypeHint: 'E.g. birth certificate, diploma',
  documentTypes: ['Giấy khai sinh', 'Căn cước công dân', 'Bằng tốt nghiệp', 'Giấy chứng nhận quyền sử dụng đất', 'Sổ hộ khẩu', 'Giấy đăng ký kết hôn'],
  originalIssuer: 'Issuer of the original',
  requesterName: 'Requester',
  originalPages: 'Pages of the original',
  copies: 'Number of copies',
  caseCode: 'Case code',
  receivingSite: 'Receiving site',
  notes: 'Notes',
  optional: 'optional',
  certifyButton: 'Certify and sign',
  refuseHeading: 'Refuse certification',
  refuseLead: 'Records the refusal and its ground in the register (Decree 23/2015/ND-CP, Art. 22).',
  ground: 'Ground',
  grounds: {
    altered: 'The original was erased, corrected, added to or cut',
    illegible: 'The original is damaged and its content cannot be read',
    'state-secret': 'The original is stamped as a state secret',
    'unlawful-content': 'Unlawful or immoral content',
    'foreign-not-legalised': 'Foreign paper not consular-legalised',
    'unstamped-private-paper': 'Private paper without any confirmation',
    other: 'Other reason',
  },
  refuseReason: 'Reason in detail',
  refuseButton: 'Record the refusal',
  resultHeading: 'Certified',
  accessOnce: "The access code is shown here only once. It is printed on the copy; if your agency's stamp template leaves that line out, hand the code to the requester.",
  todayHeading: "Today's work",
  todayLead: 'Copies certified today at your office.',
  searchHeading: 'Search the register',
  searchLead: 'By certification number, public code, date range or case code (your office only).',
  number: 'Certification number',
  code: 'Public code',
  from: 'From',
  to: 'To',
  status: 'Status',
  anyStatus: 'Any',
  statuses: { valid: 'Valid', annulled: 'Annulled', void: 'Void' },
  searchButton: 'Search',
  moreButton: 'More',
  col: { number: 'No.', time: 'Time', documentType: 'Document type', requester: 'Requester', certifier: 'Certified by', status: 'Status', code: 'Public code', actions: 'Actions' },
  annulHeading: 'Annul a certified copy',
  annulLead: 'Supervisors only; a decision number and date are needed.',
  decisionNumber: 'Decision number',
  decisionDate: 'Decision date',
  annulReason: 'Reason',
  annulButton: 'Annul',
  adminHeading: 'Office administration',
  officersHeading: 'Officer accounts',
  newOfficer: 'New account',
  displayName: 'Full name',
  title: 'Title',
  role: 'Role',
  signingKey: 'Signing key (HSM label)',
  noSigningKey: '— None —',
  editOfficer: 'Edit account',
  saveButton: 'Save',
  signingKeyHint: "The agency's keys no officer holds yet (chungthuc tenant allow-key). The seal's key is never a personal key.",
  initialPassword: 'Initial password',
  passwordHint: (min) => `At least ${min} characters.`,
  createButton: 'Create',
  keysHeading: 'API keys',
  newKey: 'New API key',
  keyName: 'Key name',
  scopes: 'Scopes',
  cidrs: 'Allowed addresses (CIDR)',
  cidrsHint: 'Comma-separated; empty = any address.',
  reportHeading: 'Check the digital signatures of a PDF',
  reportLead: 'Choose or drop a signed PDF to see whether each signature is valid and whether the file was changed after signing.',
  reportFile: 'PDF file',
  reportHint: 'One file; it is deleted as soon as it has been checked.',
  reportButton: 'Check',
  reportPrivacy: 'The file is sent to this server to be checked and is not kept.',
  verdictHeading: 'Verdict',
  indication: { 'TOTAL-PASSED': 'Valid', 'TOTAL-FAILED': 'Invalid', INDETERMINATE: 'Indeterminate', NO_SIGNATURE: 'No signature' },
  indicationLead: {
    'TOTAL-PASSED': 'Every signature is valid and the file was not changed in a disallowed way after signing.',
    'TOTAL-FAILED': 'A signature is invalid or the file was changed after signing.',
    INDETERMINATE: 'Not enough information to conclude (e.g. the certificate status could not be checked).',
    NO_SIGNATURE: 'This file has no digital signature.',
  },
  fileLabel: 'File',
  validatedAt: 'Checked at',
  policy: 'Policy',
  documentError: 'The file could not be read',
  sigHeading: (n, kind) => `${kind === 'signature' ? 'Signature' : 'Document timestamp'} ${n}`,
  signer: 'Signer',
  issuer: 'Certificate issuer',
  signingTime: 'Signing time',
  timeProven: 'proven by a timestamp',
  timeClaimed: 'claimed, not proven',
  level: 'Signature level',
  coversWhole: 'Covers the whole file',
  yes: 'Yes',
  no: 'No',
  checksCaption: 'Checks',
  checkCol: 'Check',
  resultCol: 'Result',
  detailCol: 'Detail',
  checkStatus: { passed: 'Passed', failed: 'Failed', warning: 'Warning', 'not-checked': 'Not checked' },
  changesHeading: 'Changes after signing',
  noChanges: 'Nothing was changed after the signatures.',
  revision: (i) => `Update ${i}`,
  changeAllowed: 'allowed',
  changeNotAllowed: 'NOT allowed',
  anotherFile: 'Check another file',
  tooManyHeading: 'Too many requests',
  tooMany: (s) => `Please try again in ${s} seconds.`,
  errorHeading: 'The file could not be checked',
  problems: {
    'login-failed': 'Wrong user name or password.',
    'account-locked': 'The account is locked for a while after too many wrong passwords. Try again in {s} seconds.',
    'too-many-requests': 'Too many failed sign-ins from this computer. Try again in {s} seconds.',
    'rate-limited': 'Too many requests. Please try again in {s} seconds.',
    'csrf-failed': 'This page no longer matches your session. Reload the page and try again.',
    unauthenticated: 'Your session has ended. Please sign in again.',
    'forbidden-scope': 'Your role may not do this.',
    'current-password-wrong': 'The current password is not right.',
    'password-too-weak': `A password needs at least ${PASSWORD_MIN_LENGTH} characters.`,
    'password-too-long': 'The password is too long.',
    'invalid-username': 'A user name is 3–64 characters: a–z, 0–9, dot, underscore or hyphen.',
    'username-taken': 'This user name is taken.',
    'own-account': 'An administrator cannot disable or demote their own account.',
    'signing-key-taken': 'This signing key is already held by another officer.',
    'signing-key-is-seal': "The agency seal's key cannot be a personal key.",
    'signing-key-name-mismatch': "The name in the signing key's certificate is not the officer's name.",
    'signing-key-not-allowed': 'The office may not use this signing key.',
    'invalid-cidr': 'Allowed addresses must be IPv4/IPv6 addresses or CIDR blocks.',
    'invalid-scopes': 'Choose at least one scope.',
    'officer-has-no-signing-key': 'Your account has no personal signing key yet; ask your administrator.',
    'certifier-name-mismatch': "Your name is not the name in your signing key's certificate; ask your administrator.",
    'scan-too-large': 'The scan is too large.',
    'scan-too-many-pages': 'The scan has too many pages.',
    'scan-too-many-pixels': 'A page of the scan has too many pixels.',
    'scan-too-many-annotations': 'A PDF page has too many annotations.',
    'scan-unsupported-type': 'This file type is not supported (PDF, JPEG, PNG, TIFF only).',
    'scan-corrupt': 'A scan file is damaged or cannot be read.',
    'scan-encrypted': 'The PDF is encrypted; use a copy without a password.',
    'scan-empty': 'No scan file was given.',
    'scan-decoder-failed': 'The scan file could not be processed (damaged or too complex); scan it again, preferably as JPEG.',
    'server-busy': 'The service is busy with other requests; try again in a minute.',
    'too-many-files': 'Too many files in one request.',
    'idempotency-key-in-progress': 'The previous request is still being processed; please wait a moment.',
    'hsm-unavailable': 'The signing device (HSM) is not available right now; please try again later.',
    'revocation-unavailable': 'The revocation status of a certificate could not be checked; please try again later.',
    'tsa-unreachable': 'The time-stamping service cannot be reached; please try again later.',
    'tsa-timeout': 'The time-stamping service did not answer in time; please try again later.',
    'copy-already-annulled': 'This copy was already annulled.',
    'copy-not-found': "No such copy in your office's register.",
    'copy-not-issued': 'This certification number has no copy (void or reserved).',
    'body-too-large': 'The upload is too large.',
    'not-a-pdf': 'This file is not a PDF (it does not begin with %PDF-).',
    'file-missing': 'No PDF file was sent.',
    'unsupported-media-type': 'The data was not sent in a supported format.',
    'invalid-multipart': 'The upload was damaged; please try again.',
    'validation-timeout': 'This file takes too long to check.',
    'validation-failed': 'This file could not be checked.',
    'validation-unavailable': 'Signature checking is not available right now; please try again later.',
    'internal-error': 'The server ran into an error; please try again later. If it happens again, tell your administrator the request id.',
    'invalid-parameters': 'Some details are not valid',
  },
  js: {
    loginFailed: 'Sign-in failed.',
    networkError: 'The server cannot be reached.',
    httpError: 'The server answered with HTTP error {status}; please try again later.',
    uploading: 'Uploading',
    signing: 'Signing and time-stamping…',
    previewing: 'Building the preview…',
    noFiles: 'Choose at least one file.',
    badType: 'Only PDF, JPEG, PNG and TIFF are accepted',
    up: 'Up',
    down: 'Down',
    remove: 'Remove',
    page: 'Page',
    stamp: 'Where the statement goes',
    number: 'Certification number',
    volume: 'Register volume',
    publicCode: 'Public code',
    accessCode: 'Access code',
    verifyLink: 'Public verification page',
    download: 'Download the copy (PDF)',
    newCopy: 'Certify another copy',
    refused: 'The refusal was recorded in the register.',
    loading: 'Loading…',
    empty: 'Nothing found.',
    annul: 'Annul',
    annulled: 'The copy was annulled.',
    pdf: 'PDF',
    cancel: 'Close',
    disable: 'Disable',
    enable: 'Enable',
    resetPassword: 'Reset password',
    edit: 'Edit',
    newPassword: 'New password',
    resetConfirm: 'Generate a new password for this account? Its sessions will end. Account:',
    passwordOnce: 'The new password is shown only once — hand it to the officer over a safe channel. Account:',
    revoke: 'Revoke',
    revoked: 'Revoked',
    active: 'Active',
    disabled: 'Disabled',
    keyOnce: 'The API key is shown only once — store it now:',
    saved: 'Saved.',
    passwordChanged: 'Password changed. Your other sessions have ended.',
    confirmRevoke: 'Revoke this key? Systems using it will stop working.',
    'st-valid': 'Valid',
    'st-annulled': 'Annulled',
    'st-void': 'Void',
    'st-reserved': 'Reserved',
    'role-officer': 'officer',
    'role-supervisor': 'supervisor',
    'role-admin': 'administrator',
  },
};

export const CONSOLE_MESSAGES: Readonly<Record<Lang, ConsoleMessages>> = { vi, en };

/** A problem in the page's words (`{s}` filled with its wait), or undefined for a code not explained. */
export function explainProblem(m: ConsoleMessages, code: string, details?: Record<string, unknown>): string | undefined {
  const text = (m.problems as Partial<Record<string, string>>)[code];
  const wait = details?.retryAfterSeconds;
  return text?.replace('{s}', typeof wait === 'number' ? String(wait) : '…');
}
