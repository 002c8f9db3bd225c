// SPDX-License-Identifier: UNLICENSED
pragma solidity 0.8.37;

/// @title credanchor consortium registry
/// @notice One registry per consortium. It records which institutions are
/// members, which node keys may anchor for each of them, the Merkle batch roots
/// they anchored (RFC 9162 trees of credential digests) and the latest hash of
/// each of their status lists, and it checks RFC 9162 inclusion proofs against
/// anchored roots so that a verifier needs nothing but a chain RPC.
/// @dev There is no owner. The constructor seeds the first members; after that
/// the member set and the threshold change only through proposals approved by
/// a threshold of active members. Every revert is a custom error.
contract Registry {
    // ------------------------------------------------------------------
    // Types and storage
    // ------------------------------------------------------------------

    /// @notice What an executed proposal does.
    enum Action {
        AddMember,
        RemoveMember,
        SetThreshold
    }

    /// @notice The life of a node key. A key is authorised at most once, ever:
    /// a revoked key, or a key of a removed member, may have leaked, so it can
    /// never anchor again, for anyone.
    enum KeyState {
        None,
        Active,
        Revoked,
        Dropped
    }

    struct MemberRecord {
        bool active;
        // listed is set when the address first enters _memberList, so that a
        // member removed and added again appears there once.
        bool listed;
        string did;
        string name;
    }

    struct Proposal {
        Action action;
        // epoch is the membership epoch the proposal was made in; it can only
        // be approved and executed in that epoch (see _epoch).
        uint64 epoch;
        uint64 threshold;
        uint32 approvals;
        bool executed;
        address member;
        string did;
        string name;
    }

    struct StatusListRecord {
        bytes32 hash;
        uint64 blockNumber;
    }

    /// @dev The largest batch size an anchor can record: the size shares the
    /// root's storage slot with the member (160 bits) and the block (64 bits).
    uint256 private constant MAX_SIZE = 0xffffffff;

    /// @dev How many active keys a member may hold at once. Removing a member
    /// walks its keys, so the walk must stay bounded.
    uint256 private constant MAX_KEYS = 32;

    /// @dev Bit offsets of a key record: member address in bits 0-159, the
    /// KeyState in bits 160-167, the index in the member's key list in bits
    /// 168-175. One slot, so that anchor pays for one cold SLOAD to learn both
    /// who the key anchors for and whether it still may.
    uint256 private constant KEY_STATE_SHIFT = 160;
    uint256 private constant KEY_INDEX_SHIFT = 168;

    /// @dev root => member (bits 0-159) | block number (160-223) | size
    /// (224-255). One slot per anchor keeps anchor at one fresh SSTORE.
    mapping(bytes32 => uint256) private _anchors;

    /// @dev node key => key record (see KEY_STATE_SHIFT).
    mapping(address => uint256) private _keys;

    /// @dev member => its active keys, for dropping them when it is removed.
    mapping(address => address[]) private _keyList;

    mapping(address => MemberRecord) private _members;
    address[] private _memberList;

    mapping(address => mapping(bytes32 => StatusListRecord)) private _statusLists;

    mapping(uint64 => Proposal) private _proposals;
    mapping(uint64 => mapping(address => bool)) private _approved;

    uint64 private _threshold;
    uint64 private _memberCount;
    /// @dev The membership epoch: bumped by every executed proposal. A
    /// proposal made in an earlier epoch is stale and can be neither approved
    /// nor executed, so approvals always come from the member set and the
    /// threshold that were checked when the proposal was made, and a removed
    /// member's approvals can never count.
    uint64 private _epoch;
    uint64 private _proposalCount;

    // ------------------------------------------------------------------
    // Events
    // ------------------------------------------------------------------

    /// @notice A batch root was anchored. With the block number of the log
    /// this is everything a node that joins late needs to rebuild the index.
    /// @dev The key that sent the anchor is the transaction's sender (or the
    /// calling contract); it is not repeated here because every byte of log
    /// data costs gas on the hot path.
    event Anchored(bytes32 indexed root, address indexed member, uint64 size);

    /// @notice A member anchored a new version of one of its status lists.
    event StatusListAnchored(address indexed member, bytes32 indexed listId, bytes32 hash);

    /// @notice A member joined (or rejoined, with a new DID and name).
    event MemberAdded(address indexed member, string did, string name);
    /// @notice A member left. A KeyRevoked for each of its keys precedes it;
    /// its anchors and status lists stay readable.
    event MemberRemoved(address indexed member);
    event ThresholdChanged(uint64 oldThreshold, uint64 newThreshold);

    /// @notice key may now anchor for member.
    event KeyAuthorized(address indexed member, address indexed key);
    /// @notice The key can no longer anchor: revoked, rotated out, or dropped
    /// because its member was removed. Its earlier anchors stay valid.
    event KeyRevoked(address indexed member, address indexed key);

    /// @notice A proposal was made; its proposer's approval follows at once.
    /// @param threshold the new threshold of a SetThreshold proposal, else 0.
    event ProposalCreated(
        uint64 indexed id,
        address indexed proposer,
        Action action,
        address member,
        uint64 threshold,
        string did,
        string name
    );
    event ProposalApproved(uint64 indexed id, address indexed member, uint32 approvals);
    /// @param epoch the membership epoch the execution started; every open
    /// proposal of an earlier epoch is stale from now on.
    event ProposalExecuted(uint64 indexed id, uint64 epoch);

    // ------------------------------------------------------------------
    // Errors
    // ------------------------------------------------------------------

    /// @notice The caller (or the named address) is not an active member.
    error NotMember(address account);
    error AlreadyMember(address account);
    error ZeroAddress();
    error EmptyDID();
    error LengthMismatch();
    /// @notice The threshold would leave the range 1..member count.
    error ThresholdOutOfRange(uint64 threshold, uint64 memberCount);

    error UnknownProposal(uint64 id);
    error ProposalClosed(uint64 id);
    /// @notice The member set or threshold changed since the proposal was made.
    error ProposalStale(uint64 id);
    error AlreadyApproved(uint64 id, address member);

    /// @notice The key was never authorised, or is not the caller's key.
    error KeyNotAuthorized(address key);
    error KeyWasRevoked(address key);
    error KeyOfRemovedMember(address key, address member);
    error KeyAlreadyUsed(address key);
    error TooManyKeys(address member);

    error AlreadyAnchored(bytes32 root);
    /// @notice A batch size must be in 1..2^32-1.
    error InvalidSize(uint64 size);
    error ZeroHash();

    error IndexOutOfRange(uint64 leafIndex, uint64 treeSize);
    error InvalidProofLength(uint64 got, uint64 want);

    // ------------------------------------------------------------------
    // Anchoring (the hot path)
    // ------------------------------------------------------------------

    /// @notice Anchors a batch root for the member that authorised the
    /// calling key. A root is anchored once, ever.
    /// @dev Gas matters here more than anywhere else, as every batch pays it:
    /// one cold SLOAD for the key record (2,100), one cold SLOAD plus one
    /// fresh SSTORE for the root (22,100), one LOG3 with a single data word
    /// (1,756). Everything else is kept off this path: the member record is
    /// never read (removing a member drops its keys instead), and the reason
    /// for a refused key is worked out only when refusing. About 48,400 gas
    /// in all under Prague rules, 21,000 of it the transaction base.
    /// @param root RFC 9162 root hash of the batch.
    /// @param size number of leaves in the batch, 1..2^32-1.
    function anchor(bytes32 root, uint64 size) external {
        uint256 key = _keys[msg.sender];
        if ((key >> KEY_STATE_SHIFT) & 0xff != uint256(KeyState.Active)) _refuseKey(msg.sender, key);
        unchecked {
            // size - 1 wraps to 2^64-1 for 0, so one comparison covers both ends.
            if (size - 1 >= MAX_SIZE) revert InvalidSize(size);
        }
        bytes32 anchoredSig = Anchored.selector;
        bytes4 alreadySel = AlreadyAnchored.selector;
        assembly ("memory-safe") {
            mstore(0x00, root)
            mstore(0x20, _anchors.slot)
            let slot := keccak256(0x00, 0x40)
            if sload(slot) {
                mstore(0x00, alreadySel)
                mstore(0x04, root)
                revert(0x00, 0x24)
            }
            let member := and(key, 0xffffffffffffffffffffffffffffffffffffffff)
            sstore(slot, or(member, or(shl(160, number()), shl(224, size))))
            mstore(0x00, size)
            log3(0x00, 0x20, anchoredSig, root, member)
        }
    }

    /// @notice Records hash as the latest version of the caller's member's
    /// status list listId. Verifiers trust a status list credential only if
    /// its hash is the one recorded here.
    /// @dev The block number is stored next to the hash, so gas estimated
    /// against the block that holds the list's previous version sees that
    /// write as a no-op and comes out about 2,000 low: callers add a margin.
    function anchorStatusList(bytes32 listId, bytes32 hash) external {
        uint256 key = _keys[msg.sender];
        if ((key >> KEY_STATE_SHIFT) & 0xff != uint256(KeyState.Active)) _refuseKey(msg.sender, key);
        if (hash == 0) revert ZeroHash();
        address member = address(uint160(key));
        _statusLists[member][listId] = StatusListRecord(hash, uint64(block.number));
        emit StatusListAnchored(member, listId, hash);
    }

    /// @dev Reverts with the reason a key may not anchor. Only ever reached
    /// on the failure path, so anchor does not pay for telling reasons apart.
    function _refuseKey(address account, uint256 key) private pure {
        KeyState state = KeyState((key >> KEY_STATE_SHIFT) & 0xff);
        if (state == KeyState.Revoked) revert KeyWasRevoked(account);
        if (state == KeyState.Dropped) revert KeyOfRemovedMember(account, address(uint160(key)));
        revert KeyNotAuthorized(account);
    }

    // ------------------------------------------------------------------
    // Reading anchors
    // ------------------------------------------------------------------

    /// @notice Who anchored root, in which block, with how many leaves.
    /// @return member zero when root is not anchored.
    function anchorOf(bytes32 root) external view returns (address member, uint64 blockNumber, uint64 size) {
        uint256 a = _anchors[root];
        return (address(uint160(a)), uint64(a >> 160), uint64(a >> 224));
    }

    /// @notice The latest hash anchored for a member's status list.
    /// @return hash zero when the member never anchored this list.
    function statusList(address member, bytes32 listId) external view returns (bytes32 hash, uint64 blockNumber) {
        StatusListRecord storage s = _statusLists[member][listId];
        return (s.hash, s.blockNumber);
    }

    /// @notice Checks an RFC 9162 inclusion proof of a credential digest and
    /// tells whether the root it leads to is anchored with this tree size.
    /// @dev The leaf hash is SHA-256(0x00 || digest) and an interior node
    /// SHA-256(0x01 || left || right), both with the SHA-256 precompile; the
    /// path is walked as in RFC 9162 section 2.1.3.2. A malformed proof
    /// reverts; a well-formed proof of a root that is not anchored, or that
    /// was anchored with another size, returns member zero. The size must
    /// match because a path for one size can be a valid path of the same
    /// shape for a smaller size, and the receipt must not claim a tree that
    /// was never anchored.
    /// @param digest the credential digest (the leaf before hashing).
    /// @param leafIndex zero-based index of the leaf in the batch.
    /// @param treeSize number of leaves in the batch.
    /// @param path the audit path, leaf to root.
    /// @return root the root hash the proof leads to.
    /// @return member who anchored it, or zero.
    /// @return blockNumber the block of the anchor, or zero.
    function verifyInclusion(bytes32 digest, uint64 leafIndex, uint64 treeSize, bytes32[] calldata path)
        external
        view
        returns (bytes32 root, address member, uint64 blockNumber)
    {
        if (leafIndex >= treeSize) revert IndexOutOfRange(leafIndex, treeSize);
        uint256 fn = leafIndex;
        uint256 sn = uint256(treeSize) - 1;
        bytes32 r = _leafHash(digest);
        uint256 n = path.length;
        for (uint256 i; i < n; ++i) {
            if (sn == 0) revert InvalidProofLength(uint64(n), _proofLength(leafIndex, treeSize));
            if (fn & 1 == 1 || fn == sn) {
                r = _nodeHash(path[i], r);
                while (fn & 1 == 0 && fn != 0) {
                    fn >>= 1;
                    sn >>= 1;
                }
            } else {
                r = _nodeHash(r, path[i]);
            }
            fn >>= 1;
            sn >>= 1;
        }
        if (sn != 0) revert InvalidProofLength(uint64(n), _proofLength(leafIndex, treeSize));

        uint256 a = _anchors[r];
        if (a == 0 || a >> 224 != treeSize) return (r, address(0), 0);
        return (r, address(uint160(a)), uint64(a >> 160));
    }

    function _leafHash(bytes32 digest) private view returns (bytes32 h) {
        assembly ("memory-safe") {
            mstore(0x01, digest)
            mstore8(0x00, 0x00)
            if iszero(staticcall(gas(), 0x02, 0x00, 0x21, 0x00, 0x20)) { revert(0x00, 0x00) }
            h := mload(0x00)
        }
    }

    function _nodeHash(bytes32 left, bytes32 right) private view returns (bytes32 h) {
        assembly ("memory-safe") {
            // 65 bytes do not fit the scratch space; use the free memory
            // without claiming it, as it is not needed afterwards.
            let p := mload(0x40)
            mstore8(p, 0x01)
            mstore(add(p, 0x01), left)
            mstore(add(p, 0x21), right)
            if iszero(staticcall(gas(), 0x02, p, 0x41, 0x00, 0x20)) { revert(0x00, 0x00) }
            h := mload(0x00)
        }
    }

    /// @dev The audit path length of RFC 9162 for leafIndex < treeSize: the
    /// levels below the point where the leaf's path and the last leaf's path
    /// part, plus one for each complete left subtree above it.
    function _proofLength(uint64 leafIndex, uint64 treeSize) private pure returns (uint64 want) {
        uint64 x = leafIndex ^ (treeSize - 1);
        uint64 inner;
        while (x != 0) {
            ++inner;
            x >>= 1;
        }
        want = inner;
        for (uint64 y = leafIndex >> inner; y != 0; y >>= 1) {
            want += y & 1;
        }
    }

    // ------------------------------------------------------------------
    // Node keys
    // ------------------------------------------------------------------

    /// @notice Lets key anchor for the calling member. A key serves one
    /// member and is authorised once: a key that was ever in use is refused.
    function authorizeKey(address key) external {
        _requireMember(msg.sender);
        _authorizeKey(msg.sender, key);
    }

    /// @notice Stops key from anchoring. What it anchored stays valid: an
    /// anchor records its member, not its key.
    function revokeKey(address key) external {
        _requireMember(msg.sender);
        _revokeKey(msg.sender, key);
    }

    /// @notice Revokes oldKey and authorises newKey in one transaction, so a
    /// node can switch keys without a moment in which it cannot anchor.
    function rotateKey(address oldKey, address newKey) external {
        _requireMember(msg.sender);
        _revokeKey(msg.sender, oldKey);
        _authorizeKey(msg.sender, newKey);
    }

    /// @notice The member a key anchors for, and the key's state.
    function keyOf(address key) external view returns (address member, KeyState state) {
        uint256 k = _keys[key];
        return (address(uint160(k)), KeyState((k >> KEY_STATE_SHIFT) & 0xff));
    }

    /// @notice The keys that may currently anchor for member.
    function keysOf(address member) external view returns (address[] memory) {
        return _keyList[member];
    }

    function _authorizeKey(address member, address key) private {
        if (key == address(0)) revert ZeroAddress();
        if (_keys[key] != 0) revert KeyAlreadyUsed(key);
        // Another member's governance address must not act for this one.
        if (key != member && _members[key].active) revert KeyAlreadyUsed(key);
        address[] storage list = _keyList[member];
        uint256 index = list.length;
        if (index >= MAX_KEYS) revert TooManyKeys(member);
        _keys[key] = uint256(uint160(member)) | (uint256(KeyState.Active) << KEY_STATE_SHIFT)
            | (index << KEY_INDEX_SHIFT);
        list.push(key);
        emit KeyAuthorized(member, key);
    }

    function _revokeKey(address member, address key) private {
        uint256 k = _keys[key];
        if (address(uint160(k)) != member || (k >> KEY_STATE_SHIFT) & 0xff != uint256(KeyState.Active)) {
            revert KeyNotAuthorized(key);
        }
        _unlistKey(member, (k >> KEY_INDEX_SHIFT) & 0xff);
        _keys[key] = uint256(uint160(member)) | (uint256(KeyState.Revoked) << KEY_STATE_SHIFT);
        emit KeyRevoked(member, key);
    }

    /// @dev Removes the key at index from member's list by moving the last
    /// key into its place, and fixes the moved key's record.
    function _unlistKey(address member, uint256 index) private {
        address[] storage list = _keyList[member];
        uint256 last = list.length - 1;
        if (index != last) {
            address moved = list[last];
            list[index] = moved;
            uint256 m = _keys[moved];
            _keys[moved] = (m & ~(uint256(0xff) << KEY_INDEX_SHIFT)) | (index << KEY_INDEX_SHIFT);
        }
        list.pop();
    }

    // ------------------------------------------------------------------
    // Membership and governance
    // ------------------------------------------------------------------

    /// @param members_ the founding members' addresses.
    /// @param dids_ their DIDs, in the same order.
    /// @param names_ their display names, in the same order.
    /// @param threshold_ approvals a proposal needs, 1..members_.length.
    constructor(address[] memory members_, string[] memory dids_, string[] memory names_, uint64 threshold_) {
        if (members_.length != dids_.length || members_.length != names_.length) revert LengthMismatch();
        for (uint256 i; i < members_.length; ++i) {
            address m = members_[i];
            if (m == address(0)) revert ZeroAddress();
            if (_members[m].active) revert AlreadyMember(m);
            if (bytes(dids_[i]).length == 0) revert EmptyDID();
            _addMember(m, dids_[i], names_[i]);
        }
        if (threshold_ == 0 || threshold_ > _memberCount) revert ThresholdOutOfRange(threshold_, _memberCount);
        _setThreshold(threshold_);
        _epoch = 1;
    }

    /// @notice Proposes to add an institution. The proposer's approval is
    /// counted at once.
    function proposeAddMember(address member, string calldata did, string calldata name) external returns (uint64 id) {
        _requireMember(msg.sender);
        if (member == address(0)) revert ZeroAddress();
        if (_members[member].active) revert AlreadyMember(member);
        if (bytes(did).length == 0) revert EmptyDID();
        return _propose(Action.AddMember, member, 0, did, name);
    }

    /// @notice Proposes to remove a member; its keys stop working when the
    /// proposal executes. The threshold must already fit the smaller set.
    function proposeRemoveMember(address member) external returns (uint64 id) {
        _requireMember(msg.sender);
        if (!_members[member].active) revert NotMember(member);
        if (_memberCount - 1 < _threshold) revert ThresholdOutOfRange(_threshold, _memberCount - 1);
        return _propose(Action.RemoveMember, member, 0, "", "");
    }

    /// @notice Proposes a new approval threshold, 1..member count.
    function proposeThreshold(uint64 threshold) external returns (uint64 id) {
        _requireMember(msg.sender);
        if (threshold == 0 || threshold > _memberCount) revert ThresholdOutOfRange(threshold, _memberCount);
        return _propose(Action.SetThreshold, address(0), threshold, "", "");
    }

    /// @notice Approves an open proposal of the current epoch; executes it
    /// when the approvals reach the threshold.
    function approve(uint64 id) external {
        _requireMember(msg.sender);
        if (id == 0 || id > _proposalCount) revert UnknownProposal(id);
        Proposal storage p = _proposals[id];
        if (p.executed) revert ProposalClosed(id);
        if (p.epoch != _epoch) revert ProposalStale(id);
        _approve(id, p);
    }

    /// @notice A proposal as made, with its approvals so far.
    function proposal(uint64 id)
        external
        view
        returns (
            Action action,
            address member,
            uint64 threshold,
            string memory did,
            string memory name,
            uint64 epoch,
            uint32 approvals,
            bool executed
        )
    {
        if (id == 0 || id > _proposalCount) revert UnknownProposal(id);
        Proposal storage p = _proposals[id];
        return (p.action, p.member, p.threshold, p.did, p.name, p.epoch, p.approvals, p.executed);
    }

    /// @notice Whether member approved proposal id.
    function hasApproved(uint64 id, address member) external view returns (bool) {
        return _approved[id][member];
    }

    /// @notice The governance counters in one call.
    /// @return threshold approvals a proposal needs.
    /// @return memberCount active members.
    /// @return epoch the membership epoch; proposals of older epochs are stale.
    /// @return proposalCount proposals made so far; ids run 1..proposalCount.
    function governance()
        external
        view
        returns (uint64 threshold, uint64 memberCount, uint64 epoch, uint64 proposalCount)
    {
        return (_threshold, _memberCount, _epoch, _proposalCount);
    }

    /// @notice A member's DID and name, and whether it is active. Removed
    /// members keep their record, so old anchors can still be attributed.
    function memberInfo(address member) external view returns (string memory did, string memory name, bool active) {
        MemberRecord storage m = _members[member];
        return (m.did, m.name, m.active);
    }

    /// @notice The active members.
    function members() external view returns (address[] memory list) {
        list = new address[](_memberCount);
        uint256 n;
        for (uint256 i; i < _memberList.length; ++i) {
            address m = _memberList[i];
            if (_members[m].active) list[n++] = m;
        }
    }

    function _requireMember(address account) private view {
        if (!_members[account].active) revert NotMember(account);
    }

    function _propose(Action action, address member, uint64 threshold, string memory did, string memory name)
        private
        returns (uint64 id)
    {
        id = ++_proposalCount;
        Proposal storage p = _proposals[id];
        p.action = action;
        p.epoch = _epoch;
        p.threshold = threshold;
        p.member = member;
        p.did = did;
        p.name = name;
        emit ProposalCreated(id, msg.sender, action, member, threshold, did, name);
        _approve(id, p);
    }

    function _approve(uint64 id, Proposal storage p) private {
        if (_approved[id][msg.sender]) revert AlreadyApproved(id, msg.sender);
        _approved[id][msg.sender] = true;
        uint32 approvals = ++p.approvals;
        emit ProposalApproved(id, msg.sender, approvals);
        if (approvals >= _threshold) _execute(id, p);
    }

    /// @dev The checks made when the proposal was created still hold: any
    /// change to the member set or threshold would have bumped the epoch.
    function _execute(uint64 id, Proposal storage p) private {
        p.executed = true;
        uint64 epoch = ++_epoch;
        if (p.action == Action.AddMember) {
            _addMember(p.member, p.did, p.name);
        } else if (p.action == Action.RemoveMember) {
            _removeMember(p.member);
        } else {
            _setThreshold(p.threshold);
        }
        emit ProposalExecuted(id, epoch);
    }

    function _addMember(address member, string memory did, string memory name) private {
        MemberRecord storage m = _members[member];
        if (!m.listed) {
            m.listed = true;
            _memberList.push(member);
        }
        m.active = true;
        m.did = did;
        m.name = name;
        ++_memberCount;
        emit MemberAdded(member, did, name);
    }

    /// @dev Drops every active key of the member, so anchor needs to read
    /// only the key record and never the member record.
    function _removeMember(address member) private {
        _members[member].active = false;
        --_memberCount;
        address[] storage list = _keyList[member];
        for (uint256 i; i < list.length; ++i) {
            address key = list[i];
            _keys[key] = uint256(uint160(member)) | (uint256(KeyState.Dropped) << KEY_STATE_SHIFT);
            emit KeyRevoked(member, key);
        }
        delete _keyList[member];
        emit MemberRemoved(member);
    }

    function _setThreshold(uint64 threshold) private {
        emit ThresholdChanged(_threshold, threshold);
        _threshold = threshold;
    }
}
