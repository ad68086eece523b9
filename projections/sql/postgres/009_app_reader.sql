-- What the collaborators' app reads through the gateway (issue 32,
-- producers/gateway/household_reads.py), as a role of its own: the households of the
-- collaborator's commune, their current members' names, sex, birth date, relation and
-- national id, and the verdict on the collaborator's own events. Nothing else: no
-- address, no ethnicity, no payload. docs/decisions/0014-collaborator-accounts.md.
--
-- popreg_app_reader cannot log in. It is granted to the gateway's login
-- (popreg_gateway_login, NOINHERIT, 008), which therefore does not hold these
-- privileges while it checks a token's authority; the read API's sessions take them
-- with `SET ROLE popreg_app_reader` for their transaction, and only them.
DO $$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'popreg_app_reader') THEN
        CREATE ROLE popreg_app_reader NOLOGIN;
    END IF;
END $$;

ALTER ROLE popreg_app_reader
    NOLOGIN NOINHERIT NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS;
GRANT USAGE ON SCHEMA public TO popreg_app_reader;
GRANT SELECT (household_id, commune_code, head_person_id, dissolved_on)
    ON households TO popreg_app_reader;
GRANT SELECT (household_id, person_id, relation_to_head, left_on)
    ON household_members TO popreg_app_reader;
GRANT SELECT (person_id, full_name, sex, birth_date, national_id)
    ON persons TO popreg_app_reader;

-- The fold's verdict on an event and who reported it, without the payload's content.
CREATE VIEW app_event_verdicts AS
SELECT event_id,
       commune_code,
       payload -> 'envelope' ->> 'reporter_id' AS reporter_id,
       outcome,
       reason
FROM events;
GRANT SELECT ON app_event_verdicts TO popreg_app_reader;

-- A name without case or diacritics ("Nguyễn Văn" -> "nguyen van"), by one character
-- table rather than lower() (locale-dependent) or unaccent (an extension): the table is
-- producers/gateway/text_fold.py's, generated from it, and held equal to it by a test.
CREATE FUNCTION app_fold(text) RETURNS text
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
AS $$ SELECT translate($1,
    'ABCDEFGHIJKLMNOPQRSTUVWXYZĐđÀÁÂÃÄÅÇÈÉÊËÌÍÎÏÑÒÓÔÕÖÙÚÛÜÝàáâãäåçèéêëìíîïñòóôõöùúûüýÿĀāĂăĄąĆćĈĉĊċČčĎďĒēĔĕĖėĘęĚěĜĝĞğĠġĢģĤĥĨĩĪīĬĭĮįİĴĵĶķĹĺĻļĽľŃńŅņŇňŌōŎŏŐőŔŕŖŗŘřŚśŜŝŞşŠšŢţŤťŨũŪūŬŭŮůŰűŲųŴŵŶŷŸŹźŻżŽžƠơƯưǍǎǏǐǑǒǓǔǕǖǗǘǙǚǛǜǞǟǠǡǦǧǨǩǪǫǬǭǰǴǵǸǹǺǻȀȁȂȃȄȅȆȇȈȉȊȋȌȍȎȏȐȑȒȓȔȕȖȗȘșȚțȞȟȦȧȨȩȪȫȬȭȮȯȰȱȲȳḀḁḂḃḄḅḆḇḈḉḊḋḌḍḎḏḐḑḒḓḔḕḖḗḘḙḚḛḜḝḞḟḠḡḢḣḤḥḦḧḨḩḪḫḬḭḮḯḰḱḲḳḴḵḶḷḸḹḺḻḼḽḾḿṀṁṂṃṄṅṆṇṈṉṊṋṌṍṎṏṐṑṒṓṔṕṖṗṘṙṚṛṜṝṞṟṠṡṢṣṤṥṦṧṨṩṪṫṬṭṮṯṰṱṲṳṴṵṶṷṸṹṺṻṼṽṾṿẀẁẂẃẄẅẆẇẈẉẊẋẌẍẎẏẐẑẒẓẔẕẖẗẘẙẠạẢảẤấẦầẨẩẪẫẬậẮắẰằẲẳẴẵẶặẸẹẺẻẼẽẾếỀềỂểỄễỆệỈỉỊịỌọỎỏỐốỒồỔổỖỗỘộỚớỜờỞởỠỡỢợỤụỦủỨứỪừỬửỮữỰựỲỳỴỵỶỷỸỹ',
    'abcdefghijklmnopqrstuvwxyzddaaaaaaceeeeiiiinooooouuuuyaaaaaaceeeeiiiinooooouuuuyyaaaaaaccccccccddeeeeeeeeeegggggggghhiiiiiiiiijjkkllllllnnnnnnoooooorrrrrrssssssssttttuuuuuuuuuuuuwwyyyzzzzzzoouuaaiioouuuuuuuuuuaaaaggkkoooojggnnaaaaaaeeeeiiiioooorrrruuuusstthhaaeeooooooooyyaabbbbbbccddddddddddeeeeeeeeeeffgghhhhhhhhhhiiiikkkkkkllllllllmmmmmmnnnnnnnnoooooooopppprrrrrrrrssssssssssttttttttuuuuuuuuuuvvvvwwwwwwwwwwxxxxyyzzzzzzhtwyaaaaaaaaaaaaaaaaaaaaaaaaeeeeeeeeeeeeeeeeiiiioooooooooooooooooooooooouuuuuuuuuuuuuuyyyyyyyy') $$;

GRANT popreg_app_reader TO popreg_gateway_login;
